package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxEffectBytes bounds the answer read to look for an effect: one page
// of at most 100 comments of GitHub's 65,536 characters.
const maxEffectBytes = 8 << 20

// commentSlack widens the window in which a comment counts as the one a
// failed call made, for clock skew between us and GitHub.
const commentSlack = 10 * time.Minute

// nonIdempotent reports the calls whose repetition would repeat their
// effect: opening a pull request, commenting, merging. Everything else
// the publisher sends is safe to repeat: git objects are addressed by
// their content, refs and pull requests are set to a value, labels and
// review requests are added to a set, deletes of what is gone answer 422.
func nonIdempotent(endpoint string) bool {
	switch endpoint {
	case "POST pulls", "POST issues/{number}/comments", "PUT pulls/{number}/merge":
		return true
	}
	return false
}

// effectOf looks up whether a non-idempotent call that failed without a
// clear answer (a 5xx or a network error) took effect anyway, with one
// GET: the open pull request from the same head into the same base, a
// comment with the same body made since the first attempt, the pull
// request merged. When it did, the answer is made up from what the GET
// found, in the shape the call would have returned, so the caller
// proceeds as if it had succeeded; when it did not, the call may be
// repeated. An error means the effect is unknown: do not repeat.
func (t *Transport) effectOf(req *http.Request, endpoint string, body []byte, start time.Time) (*http.Response, bool, error) {
	var (
		u      = *req.URL
		status = http.StatusCreated
		pick   func(answer []byte) (json.RawMessage, error)
	)
	u.RawQuery, u.RawPath = "", ""
	switch endpoint {
	case "POST pulls":
		var in struct{ Head, Base string }
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, false, err
		}
		head := in.Head
		if !strings.Contains(head, ":") {
			head = repoOwner(req.URL.Path) + ":" + head
		}
		u.RawQuery = url.Values{"head": {head}, "base": {in.Base}, "state": {"open"}, "per_page": {"1"}}.Encode()
		pick = func(answer []byte) (json.RawMessage, error) {
			var list []json.RawMessage
			if err := json.Unmarshal(answer, &list); err != nil || len(list) == 0 {
				return nil, err
			}
			return list[0], nil
		}
	case "POST issues/{number}/comments":
		var in struct{ Body string }
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, false, err
		}
		since := start.Add(-commentSlack).UTC().Format(time.RFC3339)
		u.RawQuery = url.Values{"since": {since}, "per_page": {"100"}}.Encode()
		pick = func(answer []byte) (json.RawMessage, error) {
			var list []json.RawMessage
			if err := json.Unmarshal(answer, &list); err != nil {
				return nil, err
			}
			for i := len(list) - 1; i >= 0; i-- {
				var c struct{ Body string }
				if err := json.Unmarshal(list[i], &c); err == nil && c.Body == in.Body {
					return list[i], nil
				}
			}
			return nil, nil
		}
	case "PUT pulls/{number}/merge":
		status = http.StatusOK
		u.Path = strings.TrimSuffix(u.Path, "/merge")
		pick = func(answer []byte) (json.RawMessage, error) {
			var pr struct {
				Merged         bool   `json:"merged"`
				MergeCommitSHA string `json:"merge_commit_sha"`
			}
			if err := json.Unmarshal(answer, &pr); err != nil || !pr.Merged {
				return nil, err
			}
			return json.Marshal(map[string]any{"sha": pr.MergeCommitSHA, "merged": true, "message": "Pull Request successfully merged"})
		}
	default:
		return nil, false, fmt.Errorf("no effect check for %s", endpoint)
	}
	answer, err := t.get(req, &u)
	if err != nil {
		return nil, false, err
	}
	found, err := pick(answer)
	if err != nil || found == nil {
		return nil, false, err
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(found)),
		ContentLength: int64(len(found)), Request: req,
	}, true, nil
}

// get sends one GET to u with req's headers (authentication included),
// counted like any call, and returns its body when it answers 200.
func (t *Transport) get(req *http.Request, u *url.URL) ([]byte, error) {
	ctx := req.Context()
	g, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	for k, v := range req.Header {
		if k != "Content-Type" && k != "Content-Length" {
			g.Header[k] = v
		}
	}
	resp, err := t.base().RoundTrip(g)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	endpoint := Endpoint(http.MethodGet, u.Path)
	count(ctx, false)
	if t.OnCall != nil {
		t.OnCall(endpoint, status)
	}
	if err != nil {
		return nil, fmt.Errorf("github %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("github %s: status %d", endpoint, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxEffectBytes))
}

// repoOwner is the owner in a /repos/{owner}/{repo}/... path.
func repoOwner(path string) string {
	_, rest, _ := strings.Cut(path, "/repos/")
	owner, _, _ := strings.Cut(rest, "/")
	return owner
}

// alreadyApplied is RoundTrip's check before repeating a call that failed
// without a clear answer: nil, false when repeating is safe; the made-up
// answer, true when the effect is there; nil, true when it is unknown
// (the check failed), so the failure must be returned as it came.
func (t *Transport) alreadyApplied(ctx context.Context, req *http.Request, endpoint string, body []byte, start time.Time) (*http.Response, bool) {
	if !nonIdempotent(endpoint) {
		return nil, false
	}
	resp, found, err := t.effectOf(req, endpoint, body, start)
	switch {
	case err != nil:
		t.logger().Warn("github call failed and its effect is unknown; not repeating it", "endpoint", endpoint, "error", err.Error())
		return nil, true
	case found:
		t.logger().Info("github call failed but took effect; not repeating it", "endpoint", endpoint)
		return resp, true
	}
	return nil, ctx.Err() != nil
}

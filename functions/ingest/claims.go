package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Limits of GET /api/v1/claims.
const (
	defaultClaimsLimit = 50
	maxQueryText       = 256
	maxKindBytes       = 317 // a 63-byte kind, a dot and a 253-byte group
)

// claimStates maps the state parameter to the store's state letters.
var claimStates = map[string]byte{"notReady": 'N', "ready": 'R', "deleted": 'D', "all": 0}

// claimsBody answers GET /api/v1/claims.
type claimsBody struct {
	Items []status.Record `json:"items"`
	Total int             `json:"total"`
	Next  string          `json:"next,omitempty"`
}

// getClaims answers one page of claims, newest change first, filtered by
// state, cluster, kind and text. A cluster token reads only its cluster.
func (f *Function) getClaims(w http.ResponseWriter, r *http.Request) {
	granted, ok := f.authenticate(w, r)
	if !ok {
		return
	}
	q, err := parseClaimsQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if q.Cluster == "" && granted != AnyCluster {
		q.Cluster = granted
	}
	target := q.Cluster
	if target == "" {
		target = AnyCluster
	}
	if !permit(w, granted, target) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.opts.RequestTimeout)
	defer cancel()
	body, err := f.claimsPage(ctx, q)
	if errors.Is(err, store.ErrBadCursor) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		f.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// claimsPage answers q from the page cache when the store's generation has
// not moved since the answer was read, else with a query. The generation
// is read before the query, so a write during the query leaves a key that
// the next request no longer asks for.
func (f *Function) claimsPage(ctx context.Context, q store.Query) (claimsBody, error) {
	gen, _, err := f.opts.Store.Generations(ctx)
	if err != nil {
		return claimsBody{}, err
	}
	key := pageKey{q: q, gen: gen}
	if body, ok := f.pages.get(key, f.opts.Now()); ok {
		return body, nil
	}
	page, err := f.opts.Store.Query(ctx, q)
	if err != nil {
		return claimsBody{}, err
	}
	body := claimsBody{Items: page.Items, Total: page.Total, Next: page.Next}
	f.pages.put(key, body, f.opts.Now())
	return body, nil
}

// parseClaimsQuery reads and checks the parameters of GET /api/v1/claims;
// errors name the parameter and its limit.
func parseClaimsQuery(r *http.Request) (store.Query, error) {
	v := r.URL.Query()
	q := store.Query{State: 'N', Limit: defaultClaimsLimit, Cluster: v.Get("cluster"), Kind: v.Get("kind"), Text: v.Get("q"), After: v.Get("cursor")}
	if s := v.Get("state"); s != "" {
		st, ok := claimStates[s]
		if !ok {
			return q, fmt.Errorf("state: %q must be one of notReady, ready, deleted, all", s)
		}
		q.State = st
	}
	if q.Cluster != "" {
		if err := status.ValidateCluster("cluster", q.Cluster); err != nil {
			return q, err
		}
	}
	if len(q.Kind) > maxKindBytes || strings.ContainsAny(q.Kind, "#\x00") {
		return q, fmt.Errorf("kind: must be Kind.group, at most %d bytes", maxKindBytes)
	}
	if len(q.Text) > maxQueryText {
		return q, fmt.Errorf("q: must be at most %d bytes, got %d", maxQueryText, len(q.Text))
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxQueryLimit {
			return q, fmt.Errorf("limit: %q must be a number from 1 to %d", s, store.MaxQueryLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// overviewBody answers GET /api/v1/overview: what the status page shows
// above the claims table.
type overviewBody struct {
	// Scope is the cluster the token reads, "*" for every cluster.
	Scope string `json:"scope"`
	// Now is the server's clock, so the page measures ages against it.
	Now string `json:"now"`
	// StaleAfterSeconds: a cluster not seen for longer is stale.
	StaleAfterSeconds int64           `json:"staleAfterSeconds"`
	Clusters          []store.Summary `json:"clusters"`
	// PullRequest is the open pull request; null when none is open.
	PullRequest *pullRequest `json:"pullRequest"`
	// Pending counts the store changes (accepted writes) since the last
	// successful reconcile: what the next run will bring into the PR.
	Pending int64 `json:"pending"`
}

// pullRequest is the open pull request as the reconcile last saved it.
type pullRequest struct {
	Number int    `json:"number"`
	URL    string `json:"url"`
}

// publishState is the part of the reconcile's saved publisher state
// (publish.State) the page needs; the ingest never calls GitHub.
type publishState struct {
	PRNumber int    `json:"prNumber"`
	PRURL    string `json:"prURL"`
}

// getOverview answers the clusters the token may read, with their
// summaries, and the open pull request.
func (f *Function) getOverview(w http.ResponseWriter, r *http.Request) {
	granted, ok := f.authenticate(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.opts.RequestTimeout)
	defer cancel()
	body, err := f.overview(ctx, granted)
	if err != nil {
		f.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// overview reads what a token scoped to granted may see of the overview.
func (f *Function) overview(ctx context.Context, granted string) (overviewBody, error) {
	body := overviewBody{Scope: granted, Now: f.opts.Now().UTC().Format(time.RFC3339Nano), StaleAfterSeconds: int64(f.opts.StaleAfter.Seconds()), Clusters: []store.Summary{}}
	if granted == AnyCluster {
		sums, err := f.opts.Store.Summaries(ctx)
		if err != nil {
			return body, err
		}
		body.Clusters = sums
	} else {
		sum, found, err := f.opts.Store.ClusterSummary(ctx, granted)
		if err != nil {
			return body, err
		}
		if found {
			body.Clusters = append(body.Clusters, sum)
		}
	}
	raw, err := f.opts.Store.PublishState(ctx)
	if err != nil {
		return body, err
	}
	var ps publishState
	if raw != nil && json.Unmarshal(raw, &ps) == nil && ps.PRNumber > 0 {
		body.PullRequest = &pullRequest{Number: ps.PRNumber, URL: ps.PRURL}
	}
	cur, done, err := f.opts.Store.Generations(ctx)
	if err != nil {
		return body, err
	}
	body.Pending = max(cur-done, 0)
	return body, nil
}

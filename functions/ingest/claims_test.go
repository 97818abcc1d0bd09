package ingest

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
)

// TestClaimsAndOverview checks GET /api/v1/claims and /api/v1/overview:
// answers, scopes of cluster tokens and precise parameter errors.
func TestClaimsAndOverview(t *testing.T) {
	e := newEnv(t, "a="+tokenA+"\nb="+tokenB+"\n*="+tokenAll)
	nr := func(ref, since string) string {
		return item(ref, "waiting", "2026-11-25T10:00:00Z", `"ready":"False"`, `"reason":"Creating"`, `"lastTransitionTime":"`+since+`"`)
	}
	for _, b := range []struct{ cluster, token, body string }{
		{"a", tokenA, batchJSON("a", nr("ns/one", "2026-11-25T09:00:00Z"), nr("ns/two", "2026-11-25T11:00:00Z"), item("ns/ok", "fine", "2026-11-25T10:00:00Z"))},
		{"b", tokenB, batchJSON("b", nr("ns/three", "2026-11-25T10:00:00Z"))},
	} {
		if code, _, body := e.do("POST", "/api/v1/statuses", b.token, "application/json", b.body); code != 200 {
			t.Fatalf("POST %s = %d %s", b.cluster, code, body)
		}
	}
	if err := e.store.SavePublishState(context.Background(), []byte(`{"baseSHA":"x","prNumber":42,"prURL":"https://github.example/o/r/pull/42"}`)); err != nil {
		t.Fatal(err)
	}
	refs := func(body string) string {
		var p claimsBody
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		var out []string
		for _, r := range p.Items {
			out = append(out, r.Cluster+":"+r.ClaimRef)
		}
		return strings.Join(out, ",") + " total " + itoa(p.Total) + map[bool]string{true: " more", false: ""}[p.Next != ""]
	}
	tests := []struct {
		name, path, token string
		code              int
		want              string // refs of a 200, the error body otherwise
	}{
		{"every not ready claim", "/api/v1/claims", tokenAll, 200, "a:ns/two,b:ns/three,a:ns/one total 3"},
		{"a page", "/api/v1/claims?limit=1", tokenAll, 200, "a:ns/two total 3 more"},
		{"ready", "/api/v1/claims?state=ready", tokenAll, 200, "a:ns/ok total 1"},
		{"text", "/api/v1/claims?q=THREE", tokenAll, 200, "b:ns/three total 1"},
		{"cluster token sees its cluster", "/api/v1/claims", tokenA, 200, "a:ns/two,a:ns/one total 2"},
		{"cluster token asks for another", "/api/v1/claims?cluster=b", tokenA, 403, `{"error":"token is scoped to cluster a and may not access cluster b"}`},
		{"no token", "/api/v1/claims", "", 401, `{"error":"Authorization: Bearer token required"}`},
		{"bad state", "/api/v1/claims?state=broken", tokenAll, 400, `{"error":"state: \"broken\" must be one of notReady, ready, deleted, all"}`},
		{"bad limit", "/api/v1/claims?limit=501", tokenAll, 400, `{"error":"limit: \"501\" must be a number from 1 to 500"}`},
		{"bad cluster", "/api/v1/claims?cluster=A_B", tokenAll, 400, `{"error":"cluster: \"A_B\" must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)"}`},
		{"long text", "/api/v1/claims?q=" + strings.Repeat("x", 257), tokenAll, 400, `{"error":"q: must be at most 256 bytes, got 257"}`},
		{"bad kind", "/api/v1/claims?kind=" + url.QueryEscape("a#b"), tokenAll, 400, `{"error":"kind: must be Kind.group, at most 317 bytes"}`},
		{"bad cursor", "/api/v1/claims?cursor=nope", tokenAll, 400, `{"error":"cursor: not a cursor this API returned"}`},
		{"overview, every cluster", "/api/v1/overview", tokenAll, 200, `{"scope":"*","now":"2026-11-25T12:00:00Z","staleAfterSeconds":1200,"clusters":[{"cluster":"a","lastSeen":"2026-11-25T12:00:00Z","ready":1,"notReady":2,"deleted":0},{"cluster":"b","lastSeen":"2026-11-25T12:00:00Z","ready":0,"notReady":1,"deleted":0}],"pullRequest":{"number":42,"url":"https://github.example/o/r/pull/42"},"pending":2}`},
		{"overview, one cluster", "/api/v1/overview", tokenB, 200, `{"scope":"b","now":"2026-11-25T12:00:00Z","staleAfterSeconds":1200,"clusters":[{"cluster":"b","lastSeen":"2026-11-25T12:00:00Z","ready":0,"notReady":1,"deleted":0}],"pullRequest":{"number":42,"url":"https://github.example/o/r/pull/42"},"pending":2}`},
		{"overview, wrong token", "/api/v1/overview", "not-a-known-token-at-all", 401, `{"error":"bearer token not recognised"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := e.do("GET", tt.path, tt.token, "", "")
			got := strings.TrimSuffix(body, "\n")
			if code == 200 && strings.HasPrefix(tt.path, "/api/v1/claims") {
				got = refs(body)
			}
			if code != tt.code || got != tt.want {
				t.Fatalf("GET %s = %d %s, want %d %s", tt.path, code, got, tt.code, tt.want)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestOverviewWithoutPullRequest: no saved state, or one without a PR,
// is "pullRequest": null.
func TestOverviewWithoutPullRequest(t *testing.T) {
	e := newEnv(t, "")
	for _, state := range []string{"", `{"baseSHA":"x"}`} {
		if state != "" {
			if err := e.store.SavePublishState(context.Background(), []byte(state)); err != nil {
				t.Fatal(err)
			}
		}
		code, _, body := e.do("GET", "/api/v1/overview", "", "", "")
		want := `{"scope":"*","now":"2026-11-25T12:00:00Z","staleAfterSeconds":1200,"clusters":[],"pullRequest":null,"pending":0}` + "\n"
		if code != 200 || body != want {
			t.Fatalf("state %q: GET overview = %d %s, want %s", state, code, body, want)
		}
	}
}

// TestPublishStateFields: the overview reads the PR from the JSON the
// reconcile saves (publish.State), so the field names must agree.
func TestPublishStateFields(t *testing.T) {
	b, err := json.Marshal(publish.State{BaseSHA: "b", PRNumber: 7, PRURL: "https://github.example/o/r/pull/7"})
	if err != nil {
		t.Fatal(err)
	}
	var got publishState
	if err := json.Unmarshal(b, &got); err != nil || got != (publishState{PRNumber: 7, PRURL: "https://github.example/o/r/pull/7"}) {
		t.Fatalf("publishState from %s = %+v %v", b, got, err)
	}
}

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// snapshot is what Redis says about every claim, plus the generation:
// the content a refused request must leave alone. Timestamps are left
// out: the agents' resync refreshes them without changing anything.
type snapshot struct {
	gen     int64
	records map[string]string
}

func takeSnapshot(t *testing.T, st *store.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	gen, _, err := st.Generations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.AllRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{gen: gen, records: make(map[string]string, len(recs))}
	for _, r := range recs {
		s.records[r.Cluster+" "+r.Key()] = fmt.Sprintf("%s|%s|%s|%v|%s", r.Ready, r.Reason, r.StatusMessage, r.Deleted, r.UID)
	}
	return s
}

// diff lists what changed between two snapshots.
func (s snapshot) diff(o snapshot) []string {
	var out []string
	if s.gen != o.gen {
		out = append(out, fmt.Sprintf("generation %d -> %d", s.gen, o.gen))
	}
	for k, v := range s.records {
		if w, ok := o.records[k]; !ok {
			out = append(out, k+" removed")
		} else if v != w {
			out = append(out, fmt.Sprintf("%s: %q -> %q", k, v, w))
		}
	}
	for k := range o.records {
		if _, ok := s.records[k]; !ok {
			out = append(out, k+" added")
		}
	}
	return out
}

// securityCheck runs against the settled fleet: cluster A's token cannot
// write cluster B, and oversize, malformed or wrongly typed bodies are
// refused, all without any effect on Redis.
func securityCheck(t *testing.T, ingestURL string, st *store.Store, cs []*cluster, l *logs, kube *kubetest.Cluster, kubeToken string) {
	a, b := cs[0], cs[1]
	victim := b.ns + "/" + b.claims[0].name
	own := a.ns + "/" + a.claims[0].name
	// Newer than anything stored, so each would win if it were accepted.
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
	item := func(ref, msg string) string {
		return fmt.Sprintf(`{"claimRef":%q,"statusMessage":%q,"ready":"False","observedAt":%q}`, ref, msg, at)
	}
	batch := func(cl string, items ...string) []byte {
		return fmt.Appendf(nil, `{"cluster":%q,"items":[%s]}`, cl, strings.Join(items, ","))
	}
	// oversize is a valid batch of A's own claims, padded with trailing
	// blanks (still valid JSON) to one byte over the limit.
	oversize := func() []byte {
		var items []string
		for _, id := range a.claims[:5] {
			items = append(items, item(a.ns+"/"+id.name, "oversize"))
		}
		body := batch(a.name, items...)
		return append(body, bytes.Repeat([]byte(" "), maxBodyBytes+1-len(body))...)
	}

	before := takeSnapshot(t, st)
	cases := []struct {
		name, path, token, contentType string
		body                           []byte
		chunked                        bool
		want                           int
	}{
		{"A's token, batch for B", "/api/v1/statuses", a.token, "application/json", batch(b.name, item(victim, "written by cluster-a")), false, 403},
		{"A's token, single status for B", "/api/v1/status", a.token, "application/json",
			fmt.Appendf(nil, `{"cluster":%q,"claimRef":%q,"statusMessage":"written by cluster-a","observedAt":%q}`, b.name, victim, at), false, 403},
		{"A's batch smuggling an item of B", "/api/v1/statuses", a.token, "application/json",
			batch(a.name, item(own, "own"), fmt.Sprintf(`{"cluster":%q,"claimRef":%q,"statusMessage":"smuggled","observedAt":%q}`, b.name, victim, at)), false, 400},
		{"unknown token", "/api/v1/statuses", "not-a-token-of-this-collector", "application/json", batch(b.name, item(victim, "unknown token")), false, 401},
		{"no token", "/api/v1/statuses", "", "application/json", batch(b.name, item(victim, "no token")), false, 401},
		{"oversize body with Content-Length", "/api/v1/statuses", a.token, "application/json", oversize(), false, 413},
		{"oversize body, chunked", "/api/v1/statuses", a.token, "application/json", oversize(), true, 413},
		{"truncated JSON", "/api/v1/statuses", a.token, "application/json", batch(a.name, item(own, "truncated"))[:60], false, 400},
		{"one invalid item spoils the batch", "/api/v1/statuses", a.token, "application/json",
			batch(a.name, item(own, "half written"), `{"claimRef":"x/y","statusMessage":"m","ready":"maybe"}`), false, 400},
		{"not JSON", "/api/v1/statuses", a.token, "text/plain", batch(a.name, item(own, "plain text")), false, 415},
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tc := range cases {
		var body io.Reader = bytes.NewReader(tc.body)
		if tc.chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
		req, err := http.NewRequest(http.MethodPost, ingestURL+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", tc.contentType)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, bytes.TrimSpace(msg), tc.want)
		}
	}
	if d := before.diff(takeSnapshot(t, st)); len(d) > 0 {
		t.Errorf("refused requests changed Redis:\n%s", strings.Join(first(d, 20), "\n"))
	}

	// An agent holding A's token but configured as cluster B (watching
	// A's namespace) is refused and stores nothing.
	stream := "agent rogue (cluster-b with cluster-a's token)"
	rogue := startAgent(t, kube, kubeToken, l, stream, agentVars(&cluster{name: b.name, ns: a.ns}, ingestURL, a.token))
	eventually(t, 30*time.Second, "the rogue agent refused with 403", func() bool {
		return strings.Contains(l.stream(stream).String(), `"status":403`)
	})
	rogue.stop()
	if d := before.diff(takeSnapshot(t, st)); len(d) > 0 {
		t.Errorf("the rogue agent changed Redis:\n%s", strings.Join(first(d, 20), "\n"))
	}
}

package ingest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// TestClaimsPageCache: a repeated query is answered from the cache while
// the store's generation stays; a write, another query or the TTL reads
// the store again.
func TestClaimsPageCache(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, "", func(o *Options) { o.Now = func() time.Time { return now } })
	post := func(ref string) {
		t.Helper()
		body := batchJSON("a", item(ref, "waiting", "2026-11-25T10:00:00Z", `"ready":"False"`))
		if code, _, b := e.do("POST", "/api/v1/statuses", "", "application/json", body); code != 200 {
			t.Fatalf("POST = %d %s", code, b)
		}
	}
	post("ns/one")
	steps := []struct {
		name, path string
		before     func()
		want       string
		wantHits   int
	}{
		{"first read", "/api/v1/claims", nil, "ns/one", 0},
		{"same query, nothing written", "/api/v1/claims", nil, "ns/one", 1},
		{"another query", "/api/v1/claims?limit=1", nil, "ns/one", 1},
		{"after a write", "/api/v1/claims", func() { post("ns/two") }, "ns/one ns/two", 1},
		{"again", "/api/v1/claims", nil, "ns/one ns/two", 2},
		{"after the TTL", "/api/v1/claims", func() { now = now.Add(cacheTTL) }, "ns/one ns/two", 2},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		code, _, body := e.do("GET", st.path, "", "", "")
		if code != 200 {
			t.Fatalf("%s: GET = %d %s", st.name, code, body)
		}
		got := decodeRefs(t, body)
		if got != st.want || e.fn.pages.hits != st.wantHits {
			t.Fatalf("%s: rows %q, %d cache hits; want %q, %d", st.name, got, e.fn.pages.hits, st.want, st.wantHits)
		}
	}
}

// TestPageCacheBounded: the cache never holds more than cachedPages pages
// or cachedRecords records, dropping the oldest first.
func TestPageCacheBounded(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var c pageCache
	page := func(n int) claimsBody { return claimsBody{Items: make([]status.Record, n)} }
	key := func(i int) pageKey { return pageKey{q: store.Query{Limit: 50, Text: fmt.Sprint(i)}, gen: 1} }
	peakPages, peakRecords := 0, 0
	for i := range 200 { // small pages first (the page bound), then big ones (the record bound)
		c.put(key(i), page(i%3*20+i/100*400), now)
		p, r := c.size()
		peakPages, peakRecords = max(peakPages, p), max(peakRecords, r)
	}
	if peakPages > cachedPages || peakRecords > cachedRecords {
		t.Fatalf("held up to %d pages and %d records, bounds are %d and %d", peakPages, peakRecords, cachedPages, cachedRecords)
	}
	if _, ok := c.get(key(199), now); !ok {
		t.Fatalf("the newest page is not held")
	}
	if _, ok := c.get(key(0), now); ok {
		t.Fatalf("the oldest page is still held")
	}
}

// decodeRefs is the claimRefs of a claims answer, sorted, space-separated.
func decodeRefs(t *testing.T, body string) string {
	t.Helper()
	var p claimsBody
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	refs := make([]string, len(p.Items))
	for i, r := range p.Items {
		refs[i] = r.ClaimRef
	}
	sort.Strings(refs)
	return strings.Join(refs, " ")
}

package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// queryFixture stores records whose order and filters the tests know:
// since = 10:00:<sec>, so a higher sec comes first.
func queryFixture(t *testing.T) *Store {
	t.Helper()
	s, _ := newStore(t)
	since := func(sec int) func(*status.Record) {
		return func(r *status.Record) {
			r.LastTransitionTime = time.Date(2026, 11, 25, 10, 0, sec, 0, time.UTC).Format(time.RFC3339)
		}
	}
	nr := func(reason string) func(*status.Record) {
		return func(r *status.Record) { r.Ready, r.Reason = "False", reason }
	}
	kind := func(k string) func(*status.Record) { return func(r *status.Record) { r.Kind = k } }
	gone := func(r *status.Record) { r.Deleted = true }
	a := []status.Record{
		rec(t, "a", "ns/db1", "waiting for the database", 1, nr("Creating"), kind("PostgreSQL.db.example.org"), since(5)),
		rec(t, "a", "ns/db2", "Resource is available", 2, kind("PostgreSQL.db.example.org"), since(9)),
		rec(t, "a", "ns/bucket", "quota <exceeded> & more", 3, nr("ReconcileError"), kind("Bucket.s3.example.org"), since(7)),
		rec(t, "a", "ns/old", "gone", 4, nr("Deleting"), gone, since(8)),
		rec(t, "a", "ns/seed", "Ready=Unknown", 3, func(r *status.Record) { r.Ready = "" }), // since = observedAt 10:00:03
	}
	b := []status.Record{
		rec(t, "b", "ns/db1", "WAITING for the network", 1, nr("Creating"), kind("PostgreSQL.db.example.org"), since(5)),
		rec(t, "b", "ns/cache", "Ümlaut failure", 2, nr("Failed"), kind("Redis.cache.example.org"), since(6)),
	}
	for _, recs := range [][]status.Record{a, b} {
		if _, err := s.Apply(context.Background(), "2026-11-25T11:00:00Z", recs); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func refs(p Page) []string {
	out := make([]string, len(p.Items))
	for i, r := range p.Items {
		out[i] = r.Cluster + ":" + r.ClaimRef
	}
	return out
}

func TestQueryFilters(t *testing.T) {
	s := queryFixture(t)
	tests := []struct {
		name  string
		q     Query
		want  []string
		total int
	}{
		{"not ready, newest first, ties by cluster", Query{State: 'N', Limit: 10},
			[]string{"a:ns/bucket", "b:ns/cache", "a:ns/db1", "b:ns/db1", "a:ns/seed"}, 5},
		{"any state", Query{Limit: 10},
			[]string{"a:ns/db2", "a:ns/old", "a:ns/bucket", "b:ns/cache", "a:ns/db1", "b:ns/db1", "a:ns/seed"}, 7},
		{"deleted", Query{State: 'D', Limit: 10}, []string{"a:ns/old"}, 1},
		{"ready", Query{State: 'R', Limit: 10}, []string{"a:ns/db2"}, 1},
		{"one cluster", Query{State: 'N', Cluster: "b", Limit: 10}, []string{"b:ns/cache", "b:ns/db1"}, 2},
		{"unknown cluster", Query{State: 'N', Cluster: "zz", Limit: 10}, []string{}, 0},
		{"kind", Query{State: 'N', Kind: "PostgreSQL.db.example.org", Limit: 10}, []string{"a:ns/db1", "b:ns/db1"}, 2},
		{"kind is exact, not a suffix", Query{State: 'N', Kind: "db.example.org", Limit: 10}, []string{}, 0},
		{"text ignores case", Query{State: 'N', Text: "waiting", Limit: 10}, []string{"a:ns/db1", "b:ns/db1"}, 2},
		{"text in reason", Query{State: 'N', Text: "reconcileerror", Limit: 10}, []string{"a:ns/bucket"}, 1},
		{"text in kind", Query{State: 'N', Text: "S3.example", Limit: 10}, []string{"a:ns/bucket"}, 1},
		{"text JSON escapes", Query{State: 'N', Text: "<exceeded> &", Limit: 10}, []string{"a:ns/bucket"}, 1},
		{"text non-ASCII case", Query{State: 'N', Text: "ümlaut", Limit: 10}, []string{"b:ns/cache"}, 1},
		{"text matches no JSON key", Query{State: 'N', Text: "statusmessage", Limit: 10}, []string{}, 0},
		{"limit", Query{State: 'N', Limit: 2}, []string{"a:ns/bucket", "b:ns/cache"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.Query(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := refs(p); !reflect.DeepEqual(got, tt.want) || p.Total != tt.total {
				t.Fatalf("got %v total %d, want %v total %d", got, p.Total, tt.want, tt.total)
			}
			if (p.Next != "") != (len(tt.want) < tt.total) {
				t.Fatalf("next = %q with %d of %d", p.Next, len(tt.want), tt.total)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	s := queryFixture(t)
	for _, tt := range []struct {
		q    Query
		want string
	}{
		{Query{Limit: 0}, "limit 0 must be between 1 and 500"},
		{Query{Limit: 501}, "limit 501 must be between 1 and 500"},
		{Query{Limit: 1, After: "%%%"}, ErrBadCursor.Error()},
		{Query{Limit: 1, After: "YWJj"}, ErrBadCursor.Error()},
	} {
		if _, err := s.Query(context.Background(), tt.q); err == nil || err.Error() != tt.want {
			t.Errorf("Query(%+v) err = %v, want %q", tt.q, err, tt.want)
		}
	}
	if _, err := s.Query(context.Background(), Query{Limit: 1, After: "x"}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor is not ErrBadCursor: %v", err)
	}
}

// TestQueryPagesLargeFleet pages through 12,000 records in small pages
// and checks that the pages, joined, are every match exactly once in order.
func TestQueryPagesLargeFleet(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	rng := rand.New(rand.NewSource(1))
	var want []string
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for c := 0; c < 2; c++ {
		cluster := fmt.Sprintf("c%d", c)
		recs := make([]status.Record, 0, 6000)
		for i := 0; i < 6000; i++ {
			r := status.Record{Cluster: cluster, ClaimRef: fmt.Sprintf("ns/claim-%d", i), StatusMessage: "m", Ready: "True",
				ObservedAt: base.Format(time.RFC3339)}
			if i%4 == 0 {
				r.Ready = "False"
				// few distinct times, so ties exercise the cluster and key
				// order; whole and fractional seconds, and seed records
				// whose since is their observedAt, so the script's since
				// bounds see every form
				at := base.Add(time.Duration(rng.Intn(50))*time.Second + time.Duration(rng.Intn(3))*time.Second/4)
				if i%12 == 0 {
					r.ObservedAt = at.Format(time.RFC3339Nano)
				} else {
					r.LastTransitionTime = at.Format(time.RFC3339Nano)
				}
			}
			recs = append(recs, r)
		}
		if i, err := status.NormalizeAll(recs, base.Add(time.Hour)); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if _, err := s.Apply(ctx, base.Format(time.RFC3339), recs); err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			if recs[i].State() == 'N' {
				want = append(want, sinceKey(&recs[i]))
			}
		}
	}
	sort.Slice(want, func(i, j int) bool {
		a, b := strings.SplitN(want[i], "|", 2), strings.SplitN(want[j], "|", 2)
		if a[0] != b[0] {
			return a[0] > b[0]
		}
		return a[1] < b[1]
	})
	var got []string
	q := Query{State: 'N', Limit: 97}
	for pages := 0; ; pages++ {
		p, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != len(want) || len(p.Items) > q.Limit {
			t.Fatalf("page %d: %d items, total %d, want at most %d of %d", pages, len(p.Items), p.Total, q.Limit, len(want))
		}
		for _, r := range p.Items {
			got = append(got, sinceKey(&r))
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pages joined differ from every match in order: got %d, want %d", len(got), len(want))
	}
}

// sinceKey is r's place in the page order as a string that sorts like it
// within one test's times.
func sinceKey(r *status.Record) string {
	return fmt.Sprintf("%020d|%s|%s", Since(r).UnixNano(), r.Cluster, r.Key())
}

// TestTopKBounded offers many entries and checks the bound (never more
// than k held), the result (the first k in page order) and duplicates.
func TestTopKBounded(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	var all []entry
	for i := 0; i < 5000; i++ {
		all = append(all, entry{pos: position{since: int64(rng.Intn(100)), cluster: "c", key: fmt.Sprint(i)}})
	}
	top := newTopK(10)
	peak := 0
	for _, e := range all {
		top.offer(e)
		top.offer(e) // HSCAN may repeat an entry
		peak = max(peak, len(top.h), len(top.held))
	}
	if peak > 10 {
		t.Fatalf("held %d entries, bound is 10", peak)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].pos.before(all[j].pos) })
	got, more := top.sorted()
	if !more || !reflect.DeepEqual(got, all[:10]) {
		t.Fatalf("top = %v (more %v), want %v", got, more, all[:10])
	}
}

func TestClusterSummary(t *testing.T) {
	s := queryFixture(t)
	sum, ok, err := s.ClusterSummary(context.Background(), "a")
	want := Summary{Cluster: "a", LastSeen: "2026-11-25T11:00:00Z", Ready: 1, NotReady: 3, Deleted: 1}
	if err != nil || !ok || sum != want {
		t.Fatalf("ClusterSummary(a) = %+v %v %v, want %+v", sum, ok, err, want)
	}
	if _, ok, err := s.ClusterSummary(context.Background(), "zz"); ok || err != nil {
		t.Fatalf("ClusterSummary(zz) ok=%v err=%v, want not found", ok, err)
	}
}

// TestQueryScriptReplyBounded: one script call returns at most about
// scanMatches+scanChunk records however many match, so a Query holds at
// most queryWorkers such replies besides its page.
func TestQueryScriptReplyBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	recs := make([]status.Record, 0, 6000)
	for i := range 6000 {
		recs = append(recs, rec(t, "c", fmt.Sprintf("ns/claim-%d", i), "m", 1, func(r *status.Record) { r.Ready = "False" }))
	}
	if _, err := s.Apply(ctx, "2026-11-25T11:00:00Z", recs); err != nil {
		t.Fatal(err)
	}
	cursor, seen, calls := "0", 0, 0
	for {
		reply, err := queryScript.Run(ctx, s.rdb, []string{s.k.claims("c")}, cursor, scanChunk, scanBudget, scanMatches, "N", "", "", "1", "", "", "", "").Slice()
		if err != nil {
			t.Fatal(err)
		}
		next, _, _, cands, err := parseScanReply(reply, true)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(cands); n > scanMatches+2*scanChunk {
			t.Fatalf("one call returned %d records, bound is about %d", n, scanMatches+scanChunk)
		}
		seen += len(cands)
		calls++
		if cursor = next; cursor == "0" {
			break
		}
	}
	if seen < 6000 || calls < 3 {
		t.Fatalf("%d calls returned %d records, want every one of 6000 in several calls", calls, seen)
	}
}

// TestQueryNextWhenScriptDrops: when the page fills in the first script
// call and later calls drop every other match as older (the since
// bounds), the page still says that more follow.
func TestQueryNextWhenScriptDrops(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	const n = 3 * scanBudget
	recs := make([]status.Record, 0, n)
	for i := range n {
		recs = append(recs, rec(t, "c", fmt.Sprintf("ns/claim-%d", i), "m", 1))
	}
	if _, err := s.Apply(ctx, "2026-11-25T11:00:00Z", recs); err != nil {
		t.Fatal(err)
	}
	// The fields the first script call scans: its HSCAN steps up to the budget.
	first := map[string]bool{}
	cursor := uint64(0)
	for len(first) < scanBudget {
		keys, next, err := s.rdb.HScan(ctx, s.k.claims("c"), cursor, "", scanChunk).Result()
		if err != nil || next == 0 {
			t.Fatalf("hscan: %v (cursor %d)", err, next)
		}
		for i := 0; i < len(keys); i += 2 {
			first[keys[i]] = true
		}
		cursor = next
	}
	// Five new not-ready claims the first call finds, five older ones it does not.
	var newer, older []status.Record
	var want []string
	for _, r := range recs {
		notReady := func(sec int) status.Record {
			return rec(t, "c", r.ClaimRef, "m", 2, func(r *status.Record) {
				r.Ready = "False"
				r.LastTransitionTime = time.Date(2026, 11, 25, 9, 0, sec, 0, time.UTC).Format(time.RFC3339)
			})
		}
		switch {
		case first[r.Key()] && len(newer) < 5:
			newer = append(newer, notReady(50-len(newer)))
			want = append(want, "c:"+r.ClaimRef)
		case !first[r.Key()] && len(older) < 5:
			older = append(older, notReady(10-len(older)))
		}
	}
	if _, err := s.Apply(ctx, "2026-11-25T11:00:00Z", append(newer, older...)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Query(ctx, Query{State: 'N', Limit: 5})
	if err != nil || p.Total != 10 || p.Next == "" || !reflect.DeepEqual(refs(p), want) {
		t.Fatalf("page = %v total %d next %q (%v), want %v, total 10 and a next page", refs(p), p.Total, p.Next, err, want)
	}
}

// TestQueryScriptSinceBounds: the script compares each since form (a
// whole-second and a fractional lastTransitionTime, a seed record's
// observedAt in the header) exactly against the bounds, ties included.
func TestQueryScriptSinceBounds(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	at := func(ns int) time.Time { return time.Date(2026, 11, 25, 10, 0, 5, ns, time.UTC) }
	ltt := func(ns int) func(*status.Record) {
		return func(r *status.Record) { r.Ready, r.LastTransitionTime = "False", at(ns).Format(time.RFC3339Nano) }
	}
	recs := []status.Record{
		rec(t, "c", "ns/whole", "m", 1, ltt(0)),
		rec(t, "c", "ns/frac", "m", 1, ltt(500_000_000)),
		rec(t, "c", "ns/seed", "m", 1, func(r *status.Record) {
			r.Ready, r.ObservedAt = "False", at(250_000_000).Format(time.RFC3339Nano)
		}),
	}
	if _, err := s.Apply(ctx, "2026-11-25T11:00:00Z", recs); err != nil {
		t.Fatal(err)
	}
	ns := func(n int) int64 { return at(n).UnixNano() }
	for _, st := range []struct {
		lo, hi    int64
		want      string
		wantBelow int
	}{
		{none, none, "ns/frac ns/seed ns/whole", 0},
		{ns(0), ns(0), "ns/whole", 0},
		{ns(250_000_000), ns(250_000_000), "ns/seed", 1},
		{ns(500_000_000), ns(500_000_000), "ns/frac", 2},
		{ns(250_000_000), none, "ns/frac ns/seed", 1},
		{none, ns(250_000_000), "ns/seed ns/whole", 0},
		{ns(1), ns(499_999_999), "ns/seed", 1},
	} {
		b := sinceRange{st.lo, st.hi}.args()
		reply, err := queryScript.Run(ctx, s.rdb, []string{s.k.claims("c")}, "0", scanChunk, scanBudget, scanMatches, "N", "", "", "", b[0], b[1], b[2], b[3]).Slice()
		if err != nil {
			t.Fatal(err)
		}
		_, matched, below, cands, err := parseScanReply(reply, false)
		var got []string
		for _, c := range cands {
			got = append(got, c.field)
		}
		sort.Strings(got)
		if err != nil || matched != 3 || below != st.wantBelow || strings.Join(got, " ") != st.want {
			t.Errorf("bounds %v: got %v (matched %d, below %d, %v), want %s (below %d)", b, got, matched, below, err, st.want, st.wantBelow)
		}
	}
}

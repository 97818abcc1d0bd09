package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// rec builds a normalized record observed at second sec of a fixed day.
func rec(t testing.TB, cluster, ref, msg string, sec int, edit ...func(*status.Record)) status.Record {
	t.Helper()
	r := status.Record{Cluster: cluster, ClaimRef: ref, StatusMessage: msg, Ready: "True",
		ObservedAt: time.Date(2026, 11, 25, 10, 0, sec, 0, time.UTC).Format(time.RFC3339Nano)}
	for _, e := range edit {
		e(&r)
	}
	if err := r.Normalize("", time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	return r
}

func newStore(t testing.TB) (*Store, *redistest.Server) {
	srv := redistest.Start(t)
	return New(srv.Client(), ""), srv
}

func TestApplyOutcomes(t *testing.T) {
	ctx := context.Background()
	uid := func(u string) func(*status.Record) { return func(r *status.Record) { r.UID = u } }
	gen := func(g int64) func(*status.Record) { return func(r *status.Record) { r.Generation = g } }
	notReady := func(r *status.Record) { r.Ready = "False" }
	steps := []struct {
		name    string
		records []func(testing.TB) status.Record
		want    string
		wantGen int64
		wantMsg string // stored message of c1 ns/a afterwards
	}{
		{"first write", []func(testing.TB) status.Record{
			func(t testing.TB) status.Record { return rec(t, "c1", "ns/a", "Available", 10, uid("u1"), gen(1)) },
		}, "a", 1, "Available"},
		{"same content newer time", []func(testing.TB) status.Record{
			func(t testing.TB) status.Record { return rec(t, "c1", "ns/a", "Available", 20, uid("u1"), gen(1)) },
		}, "u", 1, "Available"},
		{"older observedAt is stale", []func(testing.TB) status.Record{
			func(t testing.TB) status.Record {
				return rec(t, "c1", "ns/a", "Broken", 15, uid("u1"), gen(1), notReady)
			},
		}, "s", 1, "Available"},
		{"same time lower generation is stale", []func(testing.TB) status.Record{
			func(t testing.TB) status.Record {
				return rec(t, "c1", "ns/a", "Broken", 20, uid("u1"), gen(0), notReady)
			},
		}, "s", 1, "Available"},
		{"newer change accepted", []func(testing.TB) status.Record{
			func(t testing.TB) status.Record {
				return rec(t, "c1", "ns/a", "Broken", 30, uid("u1"), gen(2), notReady)
			},
		}, "a", 2, "Broken"},
		{"recreated claim with older clock replaces", []func(testing.TB) status.Record{
			func(t testing.TB) status.Record {
				return rec(t, "c1", "ns/a", "Creating", 5, uid("u2"), gen(1), notReady)
			},
		}, "a", 3, "Creating"},
		{"batch: later duplicate wins within the batch", []func(testing.TB) status.Record{
			func(t testing.TB) status.Record { return rec(t, "c1", "ns/a", "One", 40, uid("u2"), gen(1)) },
			func(t testing.TB) status.Record { return rec(t, "c1", "ns/a", "Two", 41, uid("u2"), gen(1)) },
			func(t testing.TB) status.Record { return rec(t, "c1", "ns/a", "Zero", 39, uid("u2"), gen(1)) },
		}, "aas", 4, "Two"},
		{"unchanged batch leaves generation", []func(testing.TB) status.Record{
			func(t testing.TB) status.Record { return rec(t, "c1", "ns/a", "Two", 50, uid("u2"), gen(1)) },
		}, "u", 4, "Two"},
	}
	s, _ := newStore(t)
	for _, st := range steps {
		var recs []status.Record
		for _, f := range st.records {
			recs = append(recs, f(t))
		}
		res, err := s.Apply(ctx, "2026-11-25T11:00:00Z", recs)
		if err != nil {
			t.Fatalf("%s: Apply: %v", st.name, err)
		}
		if got := string(outcomes(res.Outcomes)); got != st.want || res.Generation != st.wantGen {
			t.Fatalf("%s: outcomes=%q gen=%d, want %q gen=%d", st.name, got, res.Generation, st.want, st.wantGen)
		}
		stored, err := s.ClusterRecords(ctx, "c1")
		if err != nil || len(stored) != 1 || stored[0].StatusMessage != st.wantMsg {
			t.Fatalf("%s: stored=%+v err=%v, want one record %q", st.name, stored, err, st.wantMsg)
		}
	}
	// The unchanged write refreshed observedAt without counting as a change.
	stored, _ := s.ClusterRecords(ctx, "c1")
	if stored[0].ObservedAt != "2026-11-25T10:00:50Z" {
		t.Errorf("observedAt after unchanged write = %s", stored[0].ObservedAt)
	}
}

func outcomes(o []Outcome) []byte {
	b := make([]byte, len(o))
	for i := range o {
		b[i] = byte(o[i])
	}
	return b
}

func TestSummariesCountStates(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	notReady := func(r *status.Record) { r.Ready = "False" }
	deleted := func(r *status.Record) { r.Deleted = true }
	must := func(recs ...status.Record) {
		t.Helper()
		if _, err := s.Apply(ctx, "2026-11-25T11:00:00Z", recs); err != nil {
			t.Fatal(err)
		}
	}
	must(rec(t, "a", "ns/1", "ok", 1), rec(t, "a", "ns/2", "ok", 1), rec(t, "a", "ns/3", "bad", 1, notReady), rec(t, "b", "ns/1", "ok", 1))
	must(rec(t, "a", "ns/2", "ok", 2, deleted), rec(t, "a", "ns/3", "ok", 2))
	got, err := s.Summaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Summary{
		{Cluster: "a", LastSeen: "2026-11-25T11:00:00Z", Ready: 2, NotReady: 0, Deleted: 1},
		{Cluster: "b", LastSeen: "2026-11-25T11:00:00Z", Ready: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Summaries = %+v, want %+v", got, want)
	}
	all, err := s.AllRecords(ctx)
	if err != nil || len(all) != 4 || all[0].Cluster != "a" || all[3].Cluster != "b" {
		t.Fatalf("AllRecords = %+v, %v", all, err)
	}
}

func TestConcurrentWritersKeepNewest(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	const writers, rounds = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				// Every writer writes every second; the highest second wins.
				sec := i
				r := rec(t, "c", "ns/claim", fmt.Sprintf("w%d-r%d", w, i), sec)
				if _, err := s.Apply(ctx, "2026-11-25T11:00:00Z", []status.Record{r}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err := s.ClusterRecords(ctx, "c")
	if err != nil || len(got) != 1 {
		t.Fatalf("records = %v, %v", got, err)
	}
	if got[0].ObservedAt != "2026-11-25T10:00:39Z" {
		t.Fatalf("kept %s observed %s, want the last round", got[0].StatusMessage, got[0].ObservedAt)
	}
	sums, _ := s.Summaries(ctx)
	if len(sums) != 1 || sums[0].Ready != 1 {
		t.Fatalf("counts drifted under concurrency: %+v", sums)
	}
}

func TestApplyFailsWholeWhenRedisDown(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	srv.Stop()
	_, err := s.Apply(ctx, "now", []status.Record{rec(t, "c", "ns/a", "x", 1)})
	if err == nil {
		t.Fatal("Apply succeeded with Redis stopped")
	}
	srv.Restart()
	res, err := s.Apply(ctx, "now", []status.Record{rec(t, "c", "ns/a", "x", 1)})
	if err != nil || res.Accepted != 1 || res.Generation != 1 {
		t.Fatalf("after restart: %+v %v", res, err)
	}
}

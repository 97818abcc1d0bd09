package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// snapshot is everything a write may change, for "nothing was written".
func snapshot(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	all, err := s.AllRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := s.Summaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cur, _, err := s.Generations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	since, _ := s.rdb.Get(ctx, s.k.since()).Result()
	return fmt.Sprintf("%+v|%+v|%d|%s", all, sums, cur, since)
}

func TestClaimLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	s.SetClaimLimit(3)
	apply := func(recs ...status.Record) error {
		_, err := s.Apply(ctx, "2026-11-25T11:00:00Z", recs)
		return err
	}
	if err := apply(rec(t, "a", "ns/1", "ok", 1), rec(t, "a", "ns/2", "ok", 1)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	// Two new claims (one sent twice) and an update: 2 held + 2 new > 3.
	err := apply(rec(t, "a", "ns/1", "changed", 2), rec(t, "a", "ns/3", "ok", 2), rec(t, "a", "ns/4", "ok", 2), rec(t, "a", "ns/4", "ok", 3))
	var le *ClaimLimitError
	if !errors.As(err, &le) || *le != (ClaimLimitError{Cluster: "a", Held: 2, New: 2, Limit: 3}) {
		t.Fatalf("over the limit: err = %v, want ClaimLimitError a 2+2>3", err)
	}
	want := "store 4 records: cluster a holds 2 claims; 2 new ones would exceed the limit of 3 claims per cluster"
	if err.Error() != want {
		t.Fatalf("error text:\ngot  %s\nwant %s", err, want)
	}
	if after := snapshot(t, s); after != before {
		t.Fatalf("a refused batch changed the store:\nbefore %s\nafter  %s", before, after)
	}
	// Up to the limit, updates of held claims, and other clusters pass.
	for _, recs := range [][]status.Record{
		{rec(t, "a", "ns/1", "changed", 2), rec(t, "a", "ns/3", "ok", 2)},
		{rec(t, "a", "ns/1", "again", 3), rec(t, "a", "ns/2", "again", 3), rec(t, "a", "ns/3", "again", 3)},
		{rec(t, "b", "ns/1", "ok", 1), rec(t, "b", "ns/2", "ok", 1), rec(t, "b", "ns/3", "ok", 1)},
	} {
		if err := apply(recs...); err != nil {
			t.Fatalf("within the limit: %v", err)
		}
	}
	if err := apply(rec(t, "a", "ns/5", "ok", 4)); !errors.As(err, &le) {
		t.Fatalf("fourth claim: err = %v", err)
	}
	s.SetClaimLimit(0)
	if err := apply(rec(t, "a", "ns/5", "ok", 4)); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}

// A merged call (group commit) refused for one cluster fails only that
// cluster's writes: the others are sent again alone and stored.
func TestClaimLimitSplitsMergedCall(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	s.SetClaimLimit(1)
	encode := func(r status.Record) *write {
		v, err := encodeValue(nil, &r, r.ObservedTime())
		if err != nil {
			t.Fatal(err)
		}
		return &write{receivedAt: "now", items: []item{{cluster: r.Cluster, key: r.Key(), value: v}}}
	}
	over := []*write{encode(rec(t, "a", "ns/1", "ok", 1)), encode(rec(t, "a", "ns/2", "ok", 1)), encode(rec(t, "b", "ns/1", "ok", 1))}
	if err := s.send(ctx, over); err != nil {
		t.Fatalf("send: %v", err)
	}
	var le *ClaimLimitError
	if over[0].err != nil || over[2].err != nil || !errors.As(over[1].err, &le) {
		t.Fatalf("errors = %v, %v, %v; want only the second write refused", over[0].err, over[1].err, over[2].err)
	}
	if over[0].res.Accepted != 1 || over[2].res.Accepted != 1 {
		t.Fatalf("results = %+v %+v", over[0].res, over[2].res)
	}
	all, _ := s.AllRecords(ctx)
	if len(all) != 2 || all[0].Key() != "ns/1" || all[1].Cluster != "b" {
		t.Fatalf("stored %+v", all)
	}
}

// A Redis at its maxmemory (noeviction, the default policy) refuses the
// batch at the script's first write, before which it only read: nothing
// is half-written, the error says Redis is full, and once memory is
// available the same batch is stored whole.
func TestApplyWhenRedisIsFull(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	cfg := func(k, v string) {
		t.Helper()
		if err := srv.Client().ConfigSet(ctx, k, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	cfg("maxmemory-policy", "noeviction")
	batch := func(sec int) []status.Record {
		var recs []status.Record
		for i := range 200 {
			recs = append(recs, rec(t, "c", fmt.Sprintf("ns/claim-%03d", i), fmt.Sprintf("message %d", sec), sec))
		}
		return recs
	}
	if _, err := s.Apply(ctx, "2026-11-25T11:00:00Z", batch(1)[:100]); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	cfg("maxmemory", "1") // one byte: every write is over
	_, err := s.Apply(ctx, "2026-11-25T11:00:01Z", batch(2))
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Apply on a full Redis: err = %v, want ErrFull", err)
	}
	cfg("maxmemory", "0")
	if after := snapshot(t, s); after != before {
		t.Fatalf("a refused batch changed the store:\nbefore %s\nafter  %s", before, after)
	}
	t.Logf("refused: %v", err)
	res, err := s.Apply(ctx, "2026-11-25T11:00:02Z", batch(2))
	if err != nil || res.Accepted != 200 {
		t.Fatalf("after memory was freed: %+v %v", res, err)
	}
}

// The claim limit counts claims as the kind rules store them: a kinded
// record superseding a kind-less one, a kind-less update applied to its
// claim's only kind, and duplicates add nothing; an ambiguous kind-less
// update, which is never stored, is refused as ambiguous, not as a new
// claim.
func TestClaimLimitWithKinds(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	s.SetClaimLimit(2)
	steps := []struct {
		name string
		recs []status.Record
		want string // "", "limit" or "ambiguous"
	}{
		{"kind-less seed", []status.Record{rec(t, "c", "ns/db", "seed", 1)}, ""},
		{"kinded supersedes kind-less", []status.Record{rec(t, "c", "ns/db", "agent", 2, kinded(kindPG))}, ""},
		{"kind-less update goes to the only kind", []status.Record{rec(t, "c", "ns/db", "seed again", 3)}, ""},
		{"kind-less and kinded new claim in one batch, twice", []status.Record{
			rec(t, "c", "ns/q", "first", 4), rec(t, "c", "ns/q", "kinded", 5, kinded(kindBkt)), rec(t, "c", "ns/q", "kinded", 5, kinded(kindBkt)),
		}, ""},
		{"a third claim is over", []status.Record{rec(t, "c", "ns/z", "z", 6)}, "limit"},
		{"a second kind of a held name is a new claim", []status.Record{rec(t, "c", "ns/db", "bucket", 6, kinded(kindBkt))}, "limit"},
	}
	for _, st := range steps {
		_, err := s.Apply(ctx, "2026-11-25T11:00:00Z", st.recs)
		var le *ClaimLimitError
		switch {
		case st.want == "" && err != nil:
			t.Fatalf("%s: %v", st.name, err)
		case st.want == "limit" && !errors.As(err, &le):
			t.Fatalf("%s: err %v, want the claim limit", st.name, err)
		}
	}
	if got := storedKeys(t, s, "c"); !slices.Equal(got, []string{"ns/db#" + kindPG + "=seed again", "ns/q#" + kindBkt + "=kinded"}) {
		t.Fatalf("stored %q", got)
	}
	// Two kinds under one name, at the limit: a kind-less update is ambiguous.
	s.SetClaimLimit(0)
	if _, err := s.Apply(ctx, "t", []status.Record{rec(t, "c", "ns/db", "bucket", 7, kinded(kindBkt))}); err != nil {
		t.Fatal(err)
	}
	s.SetClaimLimit(3)
	_, err := s.Apply(ctx, "t", []status.Record{rec(t, "c", "ns/db", "which", 8)})
	var amb *AmbiguousKindError
	if !errors.As(err, &amb) || amb.ClaimRef != "ns/db" {
		t.Fatalf("kind-less update of a two-kind claim at the limit: err %v, want the ambiguity", err)
	}
}

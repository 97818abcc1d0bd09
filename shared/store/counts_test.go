package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// Property: after any sequence of batches, the per-cluster counts the
// script keeps (Summaries) equal a recount of the stored records. The
// batches mix what moves counts wrongly when the script errs: stale
// records, recreated claims (new uid, older clock), kind-less and kinded
// records, deletions, duplicates within a batch and unchanged repeats.
func TestSummariesMatchRecount(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 42))
	t.Logf("seed %d", seed)
	var sent []status.Record // to repeat earlier records unchanged or stale
	random := func() status.Record {
		if len(sent) > 0 && rng.IntN(4) == 0 {
			return sent[rng.IntN(len(sent))] // an exact repeat, or stale by now
		}
		r := status.Record{
			Cluster:       fmt.Sprintf("c%d", rng.IntN(3)),
			ClaimRef:      fmt.Sprintf("ns/claim-%d", rng.IntN(12)),
			StatusMessage: []string{"Available", "Creating", "Broken"}[rng.IntN(3)],
			Ready:         []string{"True", "False", "Unknown", ""}[rng.IntN(4)],
			UID:           []string{"", "u1", "u2", "u3"}[rng.IntN(4)],
			Generation:    int64(rng.IntN(3)),
			Deleted:       rng.IntN(5) == 0,
			ObservedAt:    time.Date(2026, 11, 25, 10, 0, rng.IntN(60), 0, time.UTC).Format(time.RFC3339),
		}
		if rng.IntN(3) == 0 {
			r.Kind = "Thing.example.org"
		}
		if err := r.Normalize("", time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for round := range 300 {
		batch := make([]status.Record, 1+rng.IntN(8))
		for i := range batch {
			batch[i] = random()
		}
		sent = append(sent, batch...)
		if _, err := s.Apply(ctx, "2026-11-25T11:00:00Z", batch); err != nil {
			t.Fatal(err)
		}
		sums, err := s.Summaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.AllRecords(ctx)
		if err != nil {
			t.Fatal(err)
		}
		recount := map[string]*Summary{}
		for _, r := range all {
			c := recount[r.Cluster]
			if c == nil {
				c = &Summary{Cluster: r.Cluster}
				recount[r.Cluster] = c
			}
			switch r.State() {
			case 'R':
				c.Ready++
			case 'N':
				c.NotReady++
			case 'D':
				c.Deleted++
			}
		}
		for _, got := range sums {
			want := recount[got.Cluster]
			if want == nil {
				want = &Summary{}
			}
			if got.Ready != want.Ready || got.NotReady != want.NotReady || got.Deleted != want.Deleted {
				t.Fatalf("seed %d round %d, after batch %+v:\ncluster %s counts ready/notReady/deleted %d/%d/%d, recount %d/%d/%d",
					seed, round, batch, got.Cluster, got.Ready, got.NotReady, got.Deleted, want.Ready, want.NotReady, want.Deleted)
			}
		}
		if len(sums) != len(recount) {
			t.Fatalf("round %d: %d summaries for %d clusters with records", round, len(sums), len(recount))
		}
	}
}

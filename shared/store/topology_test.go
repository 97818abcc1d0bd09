package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// TestTopologies runs the store through every REDIS_URL form against real
// servers: a Sentinel in front of a master, and a Redis Cluster. Every
// script touches several keys, which a cluster accepts only because they
// share the {msc} hash tag.
func TestTopologies(t *testing.T) {
	tests := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"standalone", func(t *testing.T) string { return redistest.Start(t).URL }},
		{"sentinel", func(t *testing.T) string {
			master := redistest.Start(t)
			sentinel := redistest.StartSentinel(t, master, "mymaster")
			return "redis+sentinel://" + sentinel.Addr + "?master_name=mymaster"
		}},
		{"cluster", func(t *testing.T) string {
			return "redis+cluster://" + redistest.StartCluster(t).Addr
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rdb, err := NewClient(tt.url(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rdb.Close() })
			s := New(rdb, "")
			exerciseStore(t, s)
		})
	}
}

// exerciseStore uses every kind of call the functions make: the batch
// script across two clusters, reads, summaries, the lease and its mark.
func exerciseStore(t *testing.T, s *Store) {
	ctx := context.Background()
	recs := []status.Record{rec(t, "c1", "ns/a", "x", 1), rec(t, "c2", "ns/b", "y", 1, func(r *status.Record) { r.Ready = "False" })}
	res, err := s.Apply(ctx, "2026-11-25T11:00:00Z", recs)
	if err != nil || res.Accepted != 2 || res.Generation != 1 {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	all, err := s.AllRecords(ctx)
	if err != nil || len(all) != 2 || all[0].ClaimRef != "ns/a" || all[1].Cluster != "c2" {
		t.Fatalf("AllRecords = %+v, %v", all, err)
	}
	sums, err := s.Summaries(ctx)
	if err != nil || len(sums) != 2 || sums[0].Ready != 1 || sums[1].NotReady != 1 {
		t.Fatalf("Summaries = %+v, %v", sums, err)
	}
	lease, err := s.Acquire(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.MarkReconciled(ctx, res.Generation); err != nil {
		t.Fatal(err)
	}
	if cur, done, err := s.Generations(ctx); err != nil || cur != 1 || done != 1 {
		t.Fatalf("Generations = %d, %d, %v", cur, done, err)
	}
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Since(ctx); !ok || err != nil {
		t.Fatalf("Since: ok=%v err=%v", ok, err)
	}
}

func TestOpenWantsAHashTagOnCluster(t *testing.T) {
	for _, tt := range []struct {
		url, prefix string
		ok          bool
	}{
		{"redis+cluster://127.0.0.1:1", "{msc}", true},
		{"redis+cluster://127.0.0.1:1", "", true}, // DefaultPrefix
		{"redis+cluster://127.0.0.1:1", "team-{a}", true},
		{"redis+cluster://127.0.0.1:1", "msc", false},
		{"redis+cluster://127.0.0.1:1", "msc{}", false},
		{"redis://127.0.0.1:1", "msc", true}, // one node: any prefix
	} {
		s, err := Open(tt.url, tt.prefix)
		if (err == nil) != tt.ok {
			t.Errorf("Open(%s, %q) err = %v, want ok %v", tt.url, tt.prefix, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "REDIS_KEY_PREFIX") {
			t.Errorf("error does not name REDIS_KEY_PREFIX: %v", err)
		}
		if s != nil {
			s.Client().Close()
		}
	}
}

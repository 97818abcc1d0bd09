package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// Walk visits records in (cluster, key) order, strictly after its start,
// across HMGET chunks, with each record's wire JSON, and stops when told.
func TestWalk(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	var recs []status.Record
	for _, c := range []string{"b", "a"} {
		for i := walkChunk + 3; i > 0; i-- { // more than a chunk, sent in reverse
			recs = append(recs, rec(t, c, fmt.Sprintf("ns/claim-%03d", i), "ok", 1))
		}
	}
	if _, err := s.Apply(ctx, "2026-11-25T11:00:00Z", recs); err != nil {
		t.Fatal(err)
	}
	walk := func(cluster string, from Position, stopAfter int) []string {
		var got []string
		err := s.Walk(ctx, cluster, from, time.Second, func(p Position, js string) bool {
			if want := string(recOf(t, recs, p).AppendJSON(nil)); js != want {
				t.Fatalf("%v: JSON %s, want %s", p, js, want)
			}
			got = append(got, p.Cluster+"/"+strings.TrimPrefix(p.Key, "ns/claim-"))
			return len(got) < stopAfter
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	tests := []struct {
		cluster   string
		from      Position
		stopAfter int
		want      string // first, last and count
	}{
		{"", Position{}, 1000, "a/001 b/259 518"},
		{"b", Position{}, 1000, "b/001 b/259 259"},
		{"", Position{"a", "ns/claim-258"}, 1000, "a/259 b/259 260"},
		{"", Position{"a", "ns/claim-259"}, 1000, "b/001 b/259 259"},
		{"", Position{"b", "ns/claim-259"}, 1000, "  0"},
		{"", Position{}, 300, "a/001 b/041 300"},
		{"zz", Position{}, 1000, "  0"},
	}
	for _, tt := range tests {
		got := walk(tt.cluster, tt.from, tt.stopAfter)
		first, last := "", ""
		if len(got) > 0 {
			first, last = got[0], got[len(got)-1]
		}
		if s := fmt.Sprintf("%s %s %d", first, last, len(got)); s != tt.want {
			t.Errorf("Walk(%q, %v, stop %d) = %s, want %s", tt.cluster, tt.from, tt.stopAfter, s, tt.want)
		}
	}
}

// recOf finds the record at p among recs.
func recOf(t *testing.T, recs []status.Record, p Position) *status.Record {
	for i := range recs {
		if recs[i].Cluster == p.Cluster && recs[i].Key() == p.Key {
			return &recs[i]
		}
	}
	t.Fatalf("no record at %v", p)
	return nil
}

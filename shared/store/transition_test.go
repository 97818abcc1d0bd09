package store

import (
	"context"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// TestFillTransitions writes seed-style records (no lastTransitionTime)
// at successive times and checks the time each stored record carries.
func TestFillTransitions(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	at := func(min int) time.Time { return time.Date(2026, 11, 25, 10, min, 0, 0, time.UTC) }
	seed := func(ready, uid, since string) status.Record {
		return status.Record{Cluster: "c", ClaimRef: "ns/a", StatusMessage: "m", Ready: ready, UID: uid, LastTransitionTime: since}
	}
	steps := []struct {
		name string
		min  int
		rec  status.Record
		want string // stored lastTransitionTime afterwards
	}{
		{"first seen not ready", 1, seed("False", "", ""), "2026-11-25T10:01:00Z"},
		{"same status again keeps the time", 2, seed("False", "", ""), "2026-11-25T10:01:00Z"},
		{"Ready value changes", 3, seed("Unknown", "", ""), "2026-11-25T10:03:00Z"},
		{"ready records get none", 4, seed("True", "", ""), ""},
		{"not ready after ready", 5, seed("False", "", ""), "2026-11-25T10:05:00Z"},
		{"a recreated claim starts again", 6, seed("False", "u2", ""), "2026-11-25T10:06:00Z"},
		{"the agent's own time wins", 7, seed("False", "u2", "2026-11-25T09:00:00Z"), "2026-11-25T09:00:00Z"},
		{"and is carried for a seed post", 8, seed("False", "u2", ""), "2026-11-25T09:00:00Z"},
	}
	for _, st := range steps {
		recs := []status.Record{st.rec}
		if err := recs[0].Normalize("", at(st.min)); err != nil {
			t.Fatal(err)
		}
		if err := s.FillTransitions(ctx, recs); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Apply(ctx, recs[0].ReceivedAt, recs); err != nil {
			t.Fatal(err)
		}
		got, err := s.ClusterRecords(ctx, "c")
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: records %+v %v", st.name, got, err)
		}
		if got[0].LastTransitionTime != st.want {
			t.Errorf("%s: lastTransitionTime = %q, want %q", st.name, got[0].LastTransitionTime, st.want)
		}
	}
}

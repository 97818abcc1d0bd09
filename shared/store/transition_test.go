package store

import (
	"context"
	"errors"
	"slices"
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
		{"not ready after ready", 5, seed("False", "u1", ""), "2026-11-25T10:05:00Z"},
		{"a recreated claim starts again", 6, seed("False", "u2", ""), "2026-11-25T10:06:00Z"},
		{"the agent's own time wins", 7, seed("False", "u2", "2026-11-25T09:00:00Z"), "2026-11-25T09:00:00Z"},
		{"and is carried for a seed post", 8, seed("False", "u2", ""), "2026-11-25T09:00:00Z"},
		{"a post without uid is the same claim", 9, seed("False", "", ""), "2026-11-25T09:00:00Z"},
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

// A kind-less seed post for a claim the agent stores under its kind
// updates that kinded record (kinds.go), so its time is the one the
// kinded record carries; with several kinds there is no one record.
func TestFillTransitionsOfKindedClaim(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	write := func(r status.Record) status.Record {
		t.Helper()
		recs := []status.Record{r}
		if err := recs[0].Normalize("", now); err != nil {
			t.Fatal(err)
		}
		if err := s.FillTransitions(ctx, recs); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Apply(ctx, recs[0].ReceivedAt, recs); err != nil {
			var amb *AmbiguousKindError
			if !errors.As(err, &amb) {
				t.Fatal(err)
			}
		}
		return recs[0]
	}
	agent := status.Record{Cluster: "c", ClaimRef: "ns/db", Kind: kindPG, UID: "u1", StatusMessage: "m", Ready: "False", LastTransitionTime: "2026-11-25T09:00:00Z"}
	write(agent)
	seed := status.Record{Cluster: "c", ClaimRef: "ns/db", StatusMessage: "seed", Ready: "False"}
	if got := write(seed).LastTransitionTime; got != "2026-11-25T09:00:00Z" {
		t.Fatalf("kind-less post of a kinded claim: lastTransitionTime %q, want the stored 09:00", got)
	}
	if got := storedKeys(t, s, "c"); !slices.Equal(got, []string{"ns/db#" + kindPG + "=seed"}) {
		t.Fatalf("stored %q", got)
	}
	bucket := agent
	bucket.Kind = kindBkt
	write(bucket)
	if got := write(seed).LastTransitionTime; got != "2026-11-25T10:00:00Z" {
		t.Fatalf("kind-less post of a claim with two kinds: lastTransitionTime %q, want its receivedAt", got)
	}
}

package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

func TestLeaseMarksOnlyWhileHeld(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	if _, err := s.Apply(ctx, "now", []status.Record{rec(t, "c", "ns/a", "x", 1)}); err != nil {
		t.Fatal(err)
	}
	lease, err := s.Acquire(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.MarkReconciled(ctx, 1); err != nil {
		t.Fatalf("mark while held: %v", err)
	}
	if _, done, _ := s.Generations(ctx); done != 1 {
		t.Fatalf("reconciled = %d, want 1", done)
	}

	// Redis restarts empty: the lock is gone with the data, and a run that
	// read generation 5 before must not mark it in the new Redis.
	srv.Restart()
	if _, err := s.Apply(ctx, "now", []status.Record{rec(t, "c", "ns/a", "y", 2)}); err != nil {
		t.Fatal(err)
	}
	if err := lease.MarkReconciled(ctx, 5); !errors.Is(err, ErrLockLost) {
		t.Fatalf("mark after a wipe: err = %v, want ErrLockLost", err)
	}
	if cur, done, _ := s.Generations(ctx); cur != 1 || done != 0 {
		t.Fatalf("generations after the wipe = %d/%d, want 1/0 (dirty)", cur, done)
	}

	// Another run holds the lock now: the old lease may neither mark nor release it.
	other, err := s.Acquire(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.MarkReconciled(ctx, 1); !errors.Is(err, ErrLockLost) {
		t.Fatalf("mark under another run's lock: err = %v, want ErrLockLost", err)
	}
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, time.Minute); !errors.Is(err, ErrLocked) {
		t.Fatalf("the old lease released the new run's lock: %v", err)
	}
	if err := other.MarkReconciled(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := other.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

func TestGenerationsAndMark(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	cur, done, err := s.Generations(ctx)
	if err != nil || cur != 0 || done != 0 {
		t.Fatalf("empty store: %d %d %v", cur, done, err)
	}
	if _, err := s.Apply(ctx, "now", []status.Record{rec(t, "c", "ns/a", "x", 1)}); err != nil {
		t.Fatal(err)
	}
	lease, err := s.Acquire(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.MarkReconciled(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := lease.MarkReconciled(ctx, 0); err != nil { // a late, older run
		t.Fatal(err)
	}
	cur, done, _ = s.Generations(ctx)
	if cur != 1 || done != 1 {
		t.Fatalf("generations = %d/%d, want 1/1", cur, done)
	}
}

func TestLock(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	first, err := s.Acquire(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, time.Minute); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire err = %v, want ErrLocked", err)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := s.Acquire(ctx, 50*time.Millisecond)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	// Let the lock expire and another run take it: the old release must not free it.
	deadline := time.Now().Add(5 * time.Second)
	var third *Lease
	for third == nil {
		if time.Now().After(deadline) {
			t.Fatal("lock never expired")
		}
		third, _ = s.Acquire(ctx, time.Minute)
	}
	if err := second.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, time.Minute); !errors.Is(err, ErrLocked) {
		t.Fatalf("stale release freed the new holder's lock: %v", err)
	}
}

func TestPublishState(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if b, err := s.PublishState(ctx); err != nil || b != nil {
		t.Fatalf("empty: %q %v", b, err)
	}
	if err := s.SavePublishState(ctx, []byte(`{"pr":1}`)); err != nil {
		t.Fatal(err)
	}
	if b, err := s.PublishState(ctx); err != nil || string(b) != `{"pr":1}` {
		t.Fatalf("got %q %v", b, err)
	}
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		url, wantType, wantErr string
	}{
		{"redis://127.0.0.1:6379/0", "*redis.Client", ""},
		{"rediss://user:pw@example:6380", "*redis.Client", ""},
		{"unix:///run/redis.sock", "*redis.Client", ""},
		{"redis+sentinel://s1:26379?master_name=mymaster&addr=s2:26379", "*redis.Client", ""},
		{"redis+sentinel://s1:26379", "", "master_name query parameter is required"},
		{"redis+cluster://n1:6379?addr=n2:6379", "*redis.ClusterClient", ""},
		{"http://x", "", `scheme "http" not supported`},
		{"redis://:s3cret@host:6379?bogus=1", "", "REDIS_URL"},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.url)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewClient(%q) err = %v, want %q", tt.url, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewClient(%q): %v", tt.url, err)
			continue
		}
		if got := typeName(c); got != tt.wantType {
			t.Errorf("NewClient(%q) = %s, want %s", tt.url, got, tt.wantType)
		}
		c.Close()
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func TestSinceMarksFirstWrite(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	if _, ok, err := s.Since(ctx); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	s.Apply(ctx, "2026-11-25T11:00:00Z", []status.Record{rec(t, "c", "ns/a", "x", 1)})
	s.Apply(ctx, "2026-11-25T11:05:00Z", []status.Record{rec(t, "c", "ns/a", "y", 2)})
	if got, ok, err := s.Since(ctx); !ok || err != nil || !got.Equal(time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("Since = %v %v %v, want the first write", got, ok, err)
	}
	srv.Restart() // wiped
	s.Apply(ctx, "2026-11-25T12:00:00Z", []status.Record{rec(t, "c", "ns/a", "x", 1)})
	if got, _, _ := s.Since(ctx); !got.Equal(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("Since after a wipe = %v, want the first write after it", got)
	}
}

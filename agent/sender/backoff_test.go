package sender

import (
	"testing"
	"time"
)

func TestBackoffGrowsAndCaps(t *testing.T) {
	lo := Backoff{Base: time.Second, Max: 10 * time.Second, Rand: func() float64 { return 0 }}
	hi := Backoff{Base: time.Second, Max: 10 * time.Second, Rand: func() float64 { return 0.999999 }}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, d := range want {
		n := i + 1
		if got := lo.Delay(n, 0); got != d/2 {
			t.Errorf("low jitter, failure %d: %s, want %s", n, got, d/2)
		}
		if got := hi.Delay(n, 0); got < d*99/100 || got > d {
			t.Errorf("high jitter, failure %d: %s, want about %s", n, got, d)
		}
	}
	if got := lo.Delay(1000, 0); got != 5*time.Second {
		t.Errorf("huge attempt count: %s", got)
	}
}

func TestBackoffHonoursRetryAfter(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second, Rand: func() float64 { return 0 }}
	if got := b.Delay(1, 30*time.Second); got != 30*time.Second {
		t.Errorf("Retry-After above the cap: %s", got)
	}
	if got := b.Delay(4, 2*time.Second); got != 4*time.Second {
		t.Errorf("Retry-After below the backoff: %s, want the backoff", got)
	}
	if got := b.Delay(1, 24*time.Hour); got != maxRetryAfter {
		t.Errorf("absurd Retry-After: %s", got)
	}
}

func TestBackoffJitterSpreads(t *testing.T) {
	b := Backoff{Base: time.Second, Max: time.Minute}
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[b.Delay(3, 0)] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct delays in 20 draws", len(seen))
	}
	if s := (Backoff{Max: 10 * time.Second, Rand: func() float64 { return 0 }}).Slow(); s != 5*time.Second {
		t.Fatalf("Slow = %s", s)
	}
}

package sender

import (
	"math/rand/v2"
	"time"
)

// Backoff computes how long to wait before the next attempt after
// consecutive failures: capped exponential with jitter, so many agents
// that lost the collector at the same moment do not return in lockstep.
type Backoff struct {
	Base time.Duration // first delay, default 500ms
	Max  time.Duration // cap, default 1m
	// Rand returns a float in [0,1); nil uses math/rand/v2. Injected by
	// tests to make delays deterministic.
	Rand func() float64
}

// maxRetryAfter bounds a collector's Retry-After so a bogus value cannot
// park the agent for hours.
const maxRetryAfter = 10 * time.Minute

// Delay is the wait before attempt n+1 after n consecutive failures (n >= 1).
// The n-th delay is uniformly drawn from [d/2, d) with d = min(Max,
// Base*2^(n-1)): never less than half the nominal delay, so the backoff
// keeps growing. A positive retryAfter from the collector is honoured as a
// lower bound (plus up to 10% jitter), even above Max.
func (b Backoff) Delay(n int, retryAfter time.Duration) time.Duration {
	base, max := b.Base, b.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if max <= 0 {
		max = time.Minute
	}
	if base > max {
		base = max
	}
	d := max
	if n < 1 {
		n = 1
	}
	if n <= 32 { // beyond that the shift overflows; d is capped anyway
		if nominal := base << (n - 1); nominal > 0 && nominal < max {
			d = nominal
		}
	}
	d = d/2 + time.Duration(b.rand()*float64(d/2))
	if retryAfter > 0 {
		retryAfter = min(retryAfter, maxRetryAfter)
		if ra := retryAfter + time.Duration(b.rand()*float64(retryAfter/10)); ra > d {
			d = ra
		}
	}
	return d
}

// Slow is the delay for failures only an operator can fix (401, 403, a
// rejected request): the cap with jitter, so the agent notices a fixed
// token within about Max without hammering the collector meanwhile.
func (b Backoff) Slow() time.Duration {
	max := b.Max
	if max <= 0 {
		max = time.Minute
	}
	return max/2 + time.Duration(b.rand()*float64(max/2))
}

// rand draws from Rand, or math/rand/v2 when Rand is nil.
func (b Backoff) rand() float64 {
	if b.Rand != nil {
		return b.Rand()
	}
	return rand.Float64()
}

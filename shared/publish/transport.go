package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"
)

// Clock is the time source of the transport, injectable so tests run
// rate-limit waits and backoffs without sleeping.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Defaults of Transport's zero fields.
const (
	DefaultMaxRetries        = 4
	DefaultMaxRateLimitWaits = 3
	DefaultBackoffBase       = 500 * time.Millisecond
	DefaultBackoffMax        = 30 * time.Second
	DefaultMaxWait           = 10 * time.Minute
	// secondaryDefaultWait is GitHub's advice for a secondary limit that
	// names no Retry-After: wait at least one minute.
	secondaryDefaultWait = time.Minute
	// resetSlack covers X-RateLimit-Reset's one-second resolution.
	resetSlack = time.Second
)

// Transport is the http.RoundTripper under go-github that makes every
// GitHub call count and survive: it waits out primary rate limits (403 or
// 429 with X-RateLimit-Remaining: 0, until X-RateLimit-Reset), secondary
// ones (Retry-After, or a minute when absent), and retries 5xx answers and
// network errors with capped exponential backoff and jitter. A call that
// must not be repeated (opening a PR, commenting, merging) is repeated
// only after a GET shows it did not take effect (see effectOf). No wait may
// pass the request context's deadline (or MaxWait when it has none): a
// rate limit that would is returned at once as *RateLimitError; a 5xx or
// network error is returned as it came. It is safe for concurrent use.
type Transport struct {
	Base  http.RoundTripper // default http.DefaultTransport
	Clock Clock             // default RealClock
	// OnCall is told of every attempt: Endpoint's label and the status
	// (0 for a network error). Use it to feed metrics.
	OnCall            func(endpoint string, status int)
	Logger            *slog.Logger // default slog.Default()
	MaxRetries        int          // 5xx/network retries per call; default DefaultMaxRetries
	MaxRateLimitWaits int          // rate-limit waits per call; default DefaultMaxRateLimitWaits
	BackoffBase       time.Duration
	BackoffMax        time.Duration
	MaxWait           time.Duration // bound on one wait when ctx has no deadline
	// Jitter returns a random duration in [0, d); default math/rand.
	Jitter func(d time.Duration) time.Duration

	mu sync.Mutex
	// blockedUntil is a primary-limit reset learned from a response: no
	// request goes out before it.
	blockedUntil time.Time
}

// RateLimitError is a GitHub rate limit that could not be waited out
// within the run's deadline.
type RateLimitError struct {
	Endpoint  string
	Secondary bool
	Until     time.Time
	Deadline  time.Time     // the context's deadline; zero when MaxWait applied
	MaxWait   time.Duration // the bound used when there was no deadline
}

func (e *RateLimitError) Error() string {
	kind := ""
	if e.Secondary {
		kind = " (secondary limit)"
	}
	until := e.Until.UTC().Format(time.TimeOnly)
	if e.Deadline.IsZero() {
		return fmt.Sprintf("github rate limited until %s UTC%s, longer than the %s wait limit (%s)", until, kind, e.MaxWait, e.Endpoint)
	}
	return fmt.Sprintf("github rate limited until %s UTC%s, past run deadline %s UTC (%s)",
		until, kind, e.Deadline.UTC().Format(time.TimeOnly), e.Endpoint)
}

// limitKind classifies a response.
type limitKind int

const (
	limitNone limitKind = iota
	limitPrimary
	limitSecondary
	serverError
)

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	endpoint := Endpoint(req.Method, req.URL.Path)
	body, err := drainBody(req)
	if err != nil {
		return nil, fmt.Errorf("github %s: read request body: %w", endpoint, err)
	}
	retries, waits := 0, 0
	start := t.clock().Now()
	for {
		if err := t.waitBlocked(ctx, endpoint); err != nil {
			return nil, err
		}
		resp, err := t.base().RoundTrip(withBody(req, body))
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		count(ctx, isMutating(req.Method, endpoint))
		if t.OnCall != nil {
			t.OnCall(endpoint, status)
		}
		if err != nil {
			if ctx.Err() != nil || retries >= t.maxRetries() {
				return nil, err
			}
			d := t.backoff(retries)
			retries++
			if !t.fits(ctx, d) {
				return nil, err
			}
			t.logger().Warn("github call failed; retrying", "endpoint", endpoint, "error", err.Error(), "wait", d)
			if serr := t.clock().Sleep(ctx, d); serr != nil {
				return nil, err
			}
			if done, stop := t.alreadyApplied(ctx, req, endpoint, body, start); stop {
				if done != nil {
					return done, nil
				}
				return nil, err
			}
			continue
		}
		kind, until := t.classify(resp)
		switch kind {
		case limitNone:
			if resp.StatusCode < 300 && resp.Header.Get("X-RateLimit-Remaining") == "0" {
				t.waitAfterLastCall(ctx, endpoint, resp)
			}
			return resp, nil
		case limitPrimary, limitSecondary:
			if kind == limitPrimary {
				t.block(until)
			}
			if waits >= t.maxRateLimitWaits() {
				return resp, nil // go-github turns it into its rate-limit error
			}
			waits++
			discard(resp)
			if err := t.waitUntil(ctx, until, endpoint, kind == limitSecondary); err != nil {
				return nil, err
			}
		case serverError:
			if retries >= t.maxRetries() {
				return resp, nil
			}
			d := t.backoff(retries)
			if ra, ok := retryAfter(resp, t.clock().Now()); ok {
				d = ra
			}
			retries++
			if !t.fits(ctx, d) {
				return resp, nil
			}
			t.logger().Warn("github server error; retrying", "endpoint", endpoint, "status", resp.StatusCode, "wait", d)
			if nonIdempotent(endpoint) {
				// Kept: if the effect turns out unknown, this is the answer.
				resp = buffered(resp)
			} else {
				discard(resp)
			}
			if err := t.clock().Sleep(ctx, d); err != nil {
				return nil, err
			}
			if done, stop := t.alreadyApplied(ctx, req, endpoint, body, start); stop {
				if done != nil {
					return done, nil
				}
				return resp, nil
			}
			discard(resp)
		}
	}
}

// classify tells rate limits and server errors apart, following GitHub's
// advice: Retry-After first, then X-RateLimit-Remaining 0 with
// X-RateLimit-Reset, then a minute for anything else marked as a
// secondary limit. A 403 that is none of these is a real permission error.
func (t *Transport) classify(resp *http.Response) (limitKind, time.Time) {
	now := t.clock().Now()
	h := resp.Header
	switch resp.StatusCode {
	case http.StatusForbidden, http.StatusTooManyRequests:
		if d, ok := retryAfter(resp, now); ok {
			return limitSecondary, now.Add(d)
		}
		if h.Get("X-RateLimit-Remaining") == "0" {
			if reset, ok := resetTime(h); ok {
				return limitPrimary, reset.Add(resetSlack)
			}
			return limitPrimary, now.Add(secondaryDefaultWait)
		}
		if resp.StatusCode == http.StatusTooManyRequests || mentionsSecondaryLimit(resp) {
			return limitSecondary, now.Add(secondaryDefaultWait)
		}
	default:
		if resp.StatusCode >= 500 {
			return serverError, time.Time{}
		}
	}
	return limitNone, time.Time{}
}

// waitAfterLastCall handles a successful answer that used up the primary
// limit. go-github remembers Remaining 0 and would refuse the next call
// itself (RateLimitError "not making remote request") without asking the
// transport, so the wait must happen here, now, if the deadline allows.
func (t *Transport) waitAfterLastCall(ctx context.Context, endpoint string, resp *http.Response) {
	reset, ok := resetTime(resp.Header)
	if !ok {
		return
	}
	until := reset.Add(resetSlack)
	t.block(until)
	if err := t.waitUntil(ctx, until, endpoint, false); err != nil {
		t.logger().Warn("github primary rate limit used up; not waiting", "endpoint", endpoint, "error", err.Error())
	}
}

// waitBlocked holds a request back until a known primary-limit reset.
func (t *Transport) waitBlocked(ctx context.Context, endpoint string) error {
	t.mu.Lock()
	until := t.blockedUntil
	t.mu.Unlock()
	if !until.After(t.clock().Now()) {
		return nil
	}
	return t.waitUntil(ctx, until, endpoint, false)
}

func (t *Transport) block(until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until.After(t.blockedUntil) {
		t.blockedUntil = until
	}
}

// waitUntil sleeps until a rate limit lifts, or fails fast with a
// *RateLimitError when that is past the deadline (or MaxWait).
func (t *Transport) waitUntil(ctx context.Context, until time.Time, endpoint string, secondary bool) error {
	now := t.clock().Now()
	d := until.Sub(now)
	if d <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && until.After(deadline) {
		return &RateLimitError{Endpoint: endpoint, Secondary: secondary, Until: until, Deadline: deadline}
	} else if !ok && d > t.maxWait() {
		return &RateLimitError{Endpoint: endpoint, Secondary: secondary, Until: until, MaxWait: t.maxWait()}
	}
	t.logger().Warn("github rate limited; waiting", "endpoint", endpoint, "secondary", secondary, "wait", d, "until", until.UTC())
	if err := t.clock().Sleep(ctx, d); err != nil {
		return fmt.Errorf("github %s: waiting for rate limit until %s: %w", endpoint, until.UTC().Format(time.TimeOnly), err)
	}
	return nil
}

// fits reports whether sleeping d ends before the deadline (or MaxWait).
func (t *Transport) fits(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok {
		return !t.clock().Now().Add(d).After(deadline)
	}
	return d <= t.maxWait()
}

// backoff is capped exponential backoff with equal jitter: half fixed,
// half random, so retries of many clients spread out but never collapse
// to zero.
func (t *Transport) backoff(retry int) time.Duration {
	base, maxB := t.BackoffBase, t.BackoffMax
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if maxB <= 0 {
		maxB = DefaultBackoffMax
	}
	d := maxB
	if retry < 30 && base<<retry < maxB {
		d = base << retry
	}
	jitter := t.Jitter
	if jitter == nil {
		jitter = func(d time.Duration) time.Duration { return rand.N(d) }
	}
	half := d / 2
	return half + jitter(d-half)
}

// retryAfter parses Retry-After (seconds or an HTTP date).
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// resetTime parses X-RateLimit-Reset (UTC epoch seconds).
func resetTime(h http.Header) (time.Time, bool) {
	v, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || v <= 0 {
		return time.Time{}, false
	}
	return time.Unix(v, 0), true
}

// mentionsSecondaryLimit peeks at a 403 body for GitHub's secondary-limit
// wording, leaving the body readable for go-github.
func mentionsSecondaryLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	peek, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	text := strings.ToLower(string(peek))
	return strings.Contains(text, "secondary-rate-limits") || strings.Contains(text, "secondary rate limit") ||
		strings.Contains(text, "abuse-rate-limits") || strings.Contains(text, "abuse detection")
}

// drainBody reads and closes the request body so each attempt can send
// it again; nil when there is none.
func drainBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

// withBody clones req for one attempt with a fresh body reader.
func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	return r
}

// buffered reads resp's body (up to 1 MiB) into memory and closes the
// connection's, so the response can be returned later.
func buffered(resp *http.Response) *http.Response {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// discard drops a response that will be retried, so its connection can
// be reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) clock() Clock {
	if t.Clock != nil {
		return t.Clock
	}
	return RealClock
}

func (t *Transport) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.Default()
}

func (t *Transport) maxRetries() int {
	if t.MaxRetries > 0 {
		return t.MaxRetries
	}
	return DefaultMaxRetries
}

func (t *Transport) maxRateLimitWaits() int {
	if t.MaxRateLimitWaits > 0 {
		return t.MaxRateLimitWaits
	}
	return DefaultMaxRateLimitWaits
}

func (t *Transport) maxWait() time.Duration {
	if t.MaxWait > 0 {
		return t.MaxWait
	}
	return DefaultMaxWait
}

// IsRateLimited reports whether err (from any publisher call) is a rate
// limit that could not be waited out: ours, or go-github's own.
func IsRateLimited(err error) bool {
	var ours *RateLimitError
	var primary *github.RateLimitError
	var secondary *github.AbuseRateLimitError
	return errors.As(err, &ours) || errors.As(err, &primary) || errors.As(err, &secondary)
}

package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
)

// fakeClock advances only when something sleeps on it, so waits of
// minutes take no time and tests need no real sleeps.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	// Start at the real time: contexts' deadlines are real times.
	return &fakeClock{now: time.Now().Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// quiet drops log output in tests that do not look at it.
var quiet = slog.New(slog.DiscardHandler)

// withDeadline gives ctx a deadline d after the fake clock's now.
func withDeadline(t testing.TB, clock *fakeClock, d time.Duration) context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(d))
	t.Cleanup(cancel)
	return ctx
}

// transportClient is a go-github client over a Transport on the fake.
func transportClient(t *testing.T, srv *githubfake.Server, tr *Transport) *github.Client {
	t.Helper()
	c, err := github.NewClient(&http.Client{Transport: tr}).WithEnterpriseURLs(srv.URL(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTransportWaitsOutLimitsAndRetries(t *testing.T) {
	tests := []struct {
		name      string
		fault     githubfake.Fault
		wantSleep []time.Duration // exact waits, jitter fixed at zero
	}{
		{"primary 403", githubfake.Fault{Kind: githubfake.PrimaryRateLimit, Wait: 90 * time.Second}, []time.Duration{91 * time.Second}},
		{"primary 429", githubfake.Fault{Kind: githubfake.PrimaryRateLimit, Status: 429, Wait: 30 * time.Second}, []time.Duration{31 * time.Second}},
		{"secondary with Retry-After", githubfake.Fault{Kind: githubfake.SecondaryRateLimit, Wait: 20 * time.Second}, []time.Duration{20 * time.Second}},
		{"secondary without Retry-After", githubfake.Fault{Kind: githubfake.SecondaryRateLimit}, []time.Duration{time.Minute}},
		{"429 with Retry-After", githubfake.Fault{Kind: githubfake.TooManyRequests, Wait: 5 * time.Second}, []time.Duration{5 * time.Second}},
		{"bare 429", githubfake.Fault{Kind: githubfake.TooManyRequests}, []time.Duration{time.Minute}},
		{"5xx twice", githubfake.Fault{Kind: githubfake.ServerError, Times: 2}, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}},
		{"503", githubfake.Fault{Kind: githubfake.ServerError, Status: 503}, []time.Duration{250 * time.Millisecond}},
		{"dropped connection", githubfake.Fault{Kind: githubfake.ConnectionReset}, []time.Duration{250 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := githubfake.New(t, githubfake.WithClock(clock.Now))
			repo := srv.CreateRepo("o", "r", map[string]string{"f": "1"})
			var mu sync.Mutex
			var seen []string
			tr := &Transport{
				Clock: clock, Jitter: func(time.Duration) time.Duration { return 0 }, Logger: quiet,
				OnCall: func(ep string, status int) { mu.Lock(); seen = append(seen, fmt.Sprint(ep, " ", status)); mu.Unlock() },
			}
			// POST, so retries must replay the body.
			tt.fault.Method, tt.fault.Path = "POST", "/git/trees"
			srv.Inject(tt.fault)
			ctx, counter := CountCalls(withDeadline(t, clock, 5*time.Minute))
			head, _ := repo.Branch("main")
			base, _ := repo.Commit(head)
			tree, _, err := transportClient(t, srv, tr).Git.CreateTree(ctx, "o", "r", base.Tree, []*github.TreeEntry{
				{Path: github.String("f"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("2")},
			})
			if err != nil {
				t.Fatal(err)
			}
			if tree.GetSHA() == base.Tree {
				t.Fatal("tree unchanged: body lost on retry?")
			}
			if got := clock.Slept(); fmt.Sprint(got) != fmt.Sprint(tt.wantSleep) {
				t.Fatalf("slept %v, want %v", got, tt.wantSleep)
			}
			if counter.Calls() != srv.CallCount() || counter.Calls() != len(tt.wantSleep)+1 {
				t.Fatalf("counted %d, fake saw %d", counter.Calls(), srv.CallCount())
			}
			if len(seen) != counter.Calls() || seen[len(seen)-1] != "POST git/trees 201" {
				t.Fatalf("OnCall saw %v", seen)
			}
		})
	}
}

func TestTransportFailsFastPastDeadline(t *testing.T) {
	tests := []struct {
		name    string
		fault   githubfake.Fault
		wantMsg string // "" = the fault's own response comes back
	}{
		{"primary", githubfake.Fault{Kind: githubfake.PrimaryRateLimit, Wait: 10 * time.Minute}, "github rate limited until"},
		{"secondary", githubfake.Fault{Kind: githubfake.SecondaryRateLimit, Wait: 10 * time.Minute}, "(secondary limit), past run deadline"},
		{"5xx", githubfake.Fault{Kind: githubfake.ServerError, Times: 10}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := githubfake.New(t, githubfake.WithClock(clock.Now))
			srv.CreateRepo("o", "r", map[string]string{"f": "1"})
			tr := &Transport{Clock: clock, BackoffBase: 40 * time.Second, BackoffMax: 5 * time.Minute,
				Jitter: func(time.Duration) time.Duration { return 0 }, Logger: quiet}
			srv.Inject(tt.fault)
			ctx := withDeadline(t, clock, 2*time.Minute)
			_, _, err := transportClient(t, srv, tr).Repositories.GetCommit(ctx, "o", "r", "main", nil)
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.wantMsg == "" {
				var er *github.ErrorResponse
				if !errors.As(err, &er) || er.Response.StatusCode != http.StatusBadGateway {
					t.Fatalf("want the 502 back, got %v", err)
				}
				// 20s + 40s fit in two minutes; the next 80s backoff does not.
				if got := fmt.Sprint(clock.Slept()); got != "[20s 40s]" {
					t.Fatalf("slept %s", got)
				}
				return
			}
			var rl *RateLimitError
			if !errors.As(err, &rl) || !IsRateLimited(err) || !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), "GET commits/{ref}") {
				t.Fatalf("got %v", err)
			}
			if len(clock.Slept()) != 0 || srv.CallCount() != 1 {
				t.Fatal("must fail fast without waiting or calling again")
			}
		})
	}
}

func TestTransportWithoutDeadlineUsesMaxWait(t *testing.T) {
	srv := githubfake.New(t)
	srv.CreateRepo("o", "r", map[string]string{"f": "1"})
	clock := newFakeClock()
	srv.Inject(githubfake.Fault{Kind: githubfake.PrimaryRateLimit, Wait: time.Hour})
	tr := &Transport{Clock: clock, MaxWait: time.Minute, Logger: quiet}
	_, _, err := transportClient(t, srv, tr).Repositories.GetCommit(context.Background(), "o", "r", "main", nil)
	var rl *RateLimitError
	if !errors.As(err, &rl) || !strings.Contains(err.Error(), "longer than the 1m0s wait limit") {
		t.Fatalf("got %v", err)
	}
}

func TestTransportLeavesRealForbiddenAlone(t *testing.T) {
	srv := githubfake.New(t)
	srv.CreateRepo("o", "r", map[string]string{"f": "1"})
	clock := newFakeClock()
	srv.Inject(githubfake.Fault{Kind: githubfake.ServerError, Status: http.StatusForbidden})
	_, _, err := transportClient(t, srv, &Transport{Clock: clock, Logger: quiet}).Repositories.GetCommit(withDeadline(t, clock, time.Hour), "o", "r", "main", nil)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusForbidden || len(clock.Slept()) != 0 || IsRateLimited(err) {
		t.Fatalf("a plain 403 must come back at once: %v, slept %v", err, clock.Slept())
	}
}

func TestTransportWaitsWhenSuccessUsesUpLimit(t *testing.T) {
	clock := newFakeClock()
	srv := githubfake.New(t, githubfake.WithRateLimit(1), githubfake.WithClock(clock.Now))
	srv.CreateRepo("o", "r", map[string]string{"f": "1"})
	tr := &Transport{Clock: clock, Logger: quiet}

	// Deadline allows: the successful call waits for the reset before
	// returning, so go-github's own "still exceeded" pre-check never fires.
	if _, _, err := transportClient(t, srv, tr).Repositories.GetCommit(withDeadline(t, clock, 2*time.Hour), "o", "r", "main", nil); err != nil {
		t.Fatal(err)
	}
	if s := clock.Slept(); len(s) != 1 || s[0] < 59*time.Minute || s[0] > time.Hour+time.Second {
		t.Fatalf("slept %v, want about an hour", s)
	}

	// Deadline too short: the answer comes back at once, and the next
	// call (next run, fresh go-github client) fails fast without a call.
	clock2 := newFakeClock()
	srv2 := githubfake.New(t, githubfake.WithRateLimit(1), githubfake.WithClock(clock2.Now))
	srv2.CreateRepo("o", "r", map[string]string{"f": "1"})
	tr2 := &Transport{Clock: clock2, Logger: quiet}
	ctx := withDeadline(t, clock2, time.Minute)
	if _, _, err := transportClient(t, srv2, tr2).Repositories.GetCommit(ctx, "o", "r", "main", nil); err != nil {
		t.Fatal(err)
	}
	_, _, err := transportClient(t, srv2, tr2).Repositories.GetCommit(ctx, "o", "r", "main", nil)
	var rl *RateLimitError
	if !errors.As(err, &rl) || srv2.CallCount() != 1 || len(clock2.Slept()) != 0 {
		t.Fatalf("got %v after %d calls", err, srv2.CallCount())
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	tr := &Transport{BackoffBase: time.Second, BackoffMax: 8 * time.Second, Jitter: func(d time.Duration) time.Duration { return d - 1 }}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, w := range want {
		got := tr.backoff(i)
		if got < w/2 || got >= w {
			t.Errorf("backoff(%d) = %v, want in [%v, %v)", i, got, w/2, w)
		}
	}
	if d := (&Transport{}).backoff(100); d > DefaultBackoffMax {
		t.Fatalf("uncapped: %v", d)
	}
}

package githubfake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
)

func TestEveryResponseCarriesRateLimitHeaders(t *testing.T) {
	s, _, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		_, resp, _ := c.Git.GetRef(ctx, "o", "r", "heads/none") // a 404 counts too
		if resp.Rate.Limit != DefaultRateLimit || resp.Rate.Remaining != DefaultRateLimit-i || resp.Rate.Reset.IsZero() {
			t.Fatalf("call %d: rate %+v", i, resp.Rate)
		}
	}
	if s.CallCount() != 2 {
		t.Fatalf("logged %d calls", s.CallCount())
	}
}

func TestPrimaryLimitExhaustsAndResets(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, _, c := newRepo(t, map[string]string{"f": "1"}, WithRateLimit(2), WithClock(clock))
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, _, err := c.Repositories.GetCommit(ctx, "o", "r", "main", nil); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh client, so go-github's own pre-check does not answer for the fake.
	_, _, err := s.Client().Repositories.GetCommit(ctx, "o", "r", "main", nil)
	var rl *github.RateLimitError
	if !errors.As(err, &rl) || rl.Rate.Remaining != 0 || !rl.Rate.Reset.Time.Equal(now.Add(time.Hour)) {
		t.Fatalf("want primary limit until %v, got %v", now.Add(time.Hour), err)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if _, _, err := s.Client().Repositories.GetCommit(ctx, "o", "r", "main", nil); err != nil {
		t.Fatalf("after reset: %v", err)
	}
}

func TestInjectedFaults(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, err error)
	}{
		{"primary", Fault{Kind: PrimaryRateLimit, Wait: 90 * time.Second}, func(t *testing.T, err error) {
			var rl *github.RateLimitError
			if !errors.As(err, &rl) || !rl.Rate.Reset.Time.Equal(now.Add(90*time.Second)) {
				t.Fatalf("got %v", err)
			}
		}},
		{"primary as 429", Fault{Kind: PrimaryRateLimit, Status: 429, Wait: time.Minute}, func(t *testing.T, err error) {
			var er *github.ErrorResponse
			if !errors.As(err, &er) || er.Response.StatusCode != 429 || er.Response.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Fatalf("got %v", err)
			}
		}},
		{"secondary", Fault{Kind: SecondaryRateLimit, Wait: 30 * time.Second}, func(t *testing.T, err error) {
			var ab *github.AbuseRateLimitError
			if !errors.As(err, &ab) || ab.GetRetryAfter() != 30*time.Second {
				t.Fatalf("got %v", err)
			}
		}},
		{"secondary without Retry-After", Fault{Kind: SecondaryRateLimit}, func(t *testing.T, err error) {
			// go-github then falls back to X-RateLimit-Reset for RetryAfter.
			var ab *github.AbuseRateLimitError
			if !errors.As(err, &ab) || ab.Response.Header.Get("Retry-After") != "" {
				t.Fatalf("got %v", err)
			}
		}},
		{"429", Fault{Kind: TooManyRequests, Wait: 5 * time.Second}, func(t *testing.T, err error) {
			var er *github.ErrorResponse // v66 has no special type for 429
			if !errors.As(err, &er) || er.Response.StatusCode != 429 || er.Response.Header.Get("Retry-After") != "5" {
				t.Fatalf("got %v", err)
			}
		}},
		{"5xx", Fault{Kind: ServerError, Status: 503}, func(t *testing.T, err error) {
			apiErr(t, err, 503, "Service Unavailable")
		}},
		{"dropped connection", Fault{Kind: ConnectionReset}, func(t *testing.T, err error) {
			var er *github.ErrorResponse
			if err == nil || errors.As(err, &er) {
				t.Fatalf("want a transport error, got %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, r, _ := newRepo(t, map[string]string{"f": "1"}, WithClock(func() time.Time { return now }))
			main, _ := r.Branch("main")
			tt.fault.Method, tt.fault.Path = "POST", "/git/refs"
			s.Inject(tt.fault)
			ref := &github.Reference{Ref: github.String("refs/heads/x"), Object: &github.GitObject{SHA: github.String(main)}}
			_, _, err := s.Client().Git.CreateRef(context.Background(), "o", "r", ref)
			tt.check(t, err)
			if _, ok := r.Branch("x"); ok {
				t.Fatal("a faulted call must not reach the handler")
			}
			if _, _, err := s.Client().Git.CreateRef(context.Background(), "o", "r", ref); err != nil {
				t.Fatalf("fault should fire once: %v", err)
			}
			calls := s.Calls()
			if calls[0].Fault != tt.fault.Kind || calls[1].Fault != 0 || calls[1].Status != http.StatusCreated {
				t.Fatalf("log: %+v", calls)
			}
		})
	}
}

func TestFaultMatchingAfterTimesAndLatency(t *testing.T) {
	s, _, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	s.Inject(Fault{Kind: ServerError, Path: "/commits/", After: 1, Times: 2})
	s.Inject(Fault{Kind: Latency, Method: "GET", Path: "/git/ref/", Wait: 20 * time.Millisecond})
	var statuses []int
	for i := 0; i < 4; i++ {
		_, resp, _ := c.Repositories.GetCommit(ctx, "o", "r", "main", nil)
		statuses = append(statuses, resp.StatusCode)
	}
	if fmt.Sprint(statuses) != "[200 502 502 200]" {
		t.Fatalf("statuses %v", statuses)
	}
	start := time.Now()
	_, _, _ = c.Git.GetRef(ctx, "o", "r", "heads/main")
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("latency not applied")
	}
	if s.PendingFaults() != 0 {
		t.Fatal("faults left armed")
	}
}

func TestCallLogCountsMutations(t *testing.T) {
	s, r, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	main, _ := r.Branch("main")
	_, _, _ = c.Repositories.GetCommit(ctx, "o", "r", "main", nil)
	_, _, _ = c.Git.CreateRef(ctx, "o", "r", &github.Reference{Ref: github.String("refs/heads/x"), Object: &github.GitObject{SHA: github.String(main)}})
	_, _, _ = c.Git.CreateRef(ctx, "o", "r", &github.Reference{Ref: github.String("refs/heads/x"), Object: &github.GitObject{SHA: github.String(main)}})
	if s.CallCount() != 3 || s.Mutations() != 2 {
		t.Fatalf("calls %d mutations %d", s.CallCount(), s.Mutations())
	}
	counts := s.CountByEndpoint()
	if counts["POST /repos/{owner}/{repo}/git/refs 201"] != 1 || counts["POST /repos/{owner}/{repo}/git/refs 422"] != 1 ||
		counts["GET /repos/{owner}/{repo}/commits/{ref...} 200"] != 1 {
		t.Fatalf("counts %v", counts)
	}
	s.ResetCalls()
	if s.CallCount() != 0 {
		t.Fatal("reset kept calls")
	}
}

func TestServesWithAndWithoutEnterprisePrefix(t *testing.T) {
	s, _, _ := newRepo(t, map[string]string{"f": "1"})
	for _, base := range []string{s.srv.URL + "/", s.srv.URL + "/api/v3/"} {
		c := github.NewClient(nil)
		c.BaseURL = mustURL(t, base)
		if _, _, err := c.Repositories.GetCommit(context.Background(), "o", "r", "main", nil); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
	}
	resp, err := http.Get(s.srv.URL + "/nope")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown route: %v", err)
	}
	resp.Body.Close()
}

func TestTokenRequired(t *testing.T) {
	s, _, _ := newRepo(t, map[string]string{"f": "1"}, WithToken("ghp_right"))
	ctx := context.Background()
	if _, _, err := s.Client().Repositories.GetCommit(ctx, "o", "r", "main", nil); err != nil {
		t.Fatalf("right token: %v", err)
	}
	c, _ := github.NewClient(nil).WithAuthToken("ghp_wrong").WithEnterpriseURLs(s.URL(), s.URL())
	_, _, err := c.Repositories.GetCommit(ctx, "o", "r", "main", nil)
	apiErr(t, err, http.StatusUnauthorized, "Bad credentials")
}

// TestConcurrentUse drives the fake from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	s, r, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	main, _ := r.Branch("main")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := "b" + strconv.Itoa(i)
			_, _, _ = c.Git.CreateRef(ctx, "o", "r", &github.Reference{Ref: github.String("refs/heads/" + b), Object: &github.GitObject{SHA: github.String(main)}})
			r.SetFile(b, "f", []byte(b))
			_, _, _ = c.PullRequests.Create(ctx, "o", "r", &github.NewPullRequest{Title: github.String(b), Head: github.String(b), Base: github.String("main")})
			_ = s.Calls()
			_ = r.Pulls()
		}()
	}
	wg.Wait()
	if len(r.OpenPulls()) != 8 || s.Mutations() != 16 {
		t.Fatalf("pulls %d mutations %d", len(r.OpenPulls()), s.Mutations())
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

package publish

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
)

const (
	regPath  = "registry/registry.yaml"
	testTok  = "ghp_TESTTOKENthatMustNeverLeak0123456789"
	prBranch = DefaultBranch
)

// registries memoises registry: the 10,000-claim file is built often.
var registries sync.Map

// registry renders a registry of n claims; gen > 0 marks every tenth
// claim (a different tenth per gen) with that generation's status.
func registry(n, gen int) string {
	key := [2]int{n, gen}
	if s, ok := registries.Load(key); ok {
		return s.(string)
	}
	s := renderRegistry(n, gen)
	registries.Store(key, s)
	return s
}

func renderRegistry(n, gen int) string {
	var b strings.Builder
	b.WriteString("# Machinery registry: edited by the collector, reviewed by people.\ncluster-a:\n")
	for i := range n {
		status := "Ready=True"
		if gen > 0 && i%10 == gen%10 {
			status = fmt.Sprintf("NotReady: waiting for dependency (generation %d)", gen)
		}
		fmt.Fprintf(&b, "  - name: claim-%05d\n    namespace: team-%03d\n    claimRef: team-%03d/claim-%05d\n    statusMessage: %q\n",
			i, i%100, i%100, i, status)
	}
	return b.String()
}

// env is a fake GitHub with the registry repository and a publisher on it.
type env struct {
	t     testing.TB
	srv   *githubfake.Server
	repo  *githubfake.Repo
	clock *fakeClock
	pub   *GitHub
	logs  *bytes.Buffer // the publisher logs from the calling goroutine only
	st    State

	mu     sync.Mutex
	onCall map[string]int // OnCall hook: "endpoint status" -> count
	paths  []string       // request paths as sent on the wire
}

func newEnv(t testing.TB, claims int, mod ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, clock: newFakeClock(), logs: &bytes.Buffer{}, onCall: map[string]int{}}
	e.srv = githubfake.New(t, githubfake.WithClock(e.clock.Now), githubfake.WithToken(testTok))
	e.repo = e.srv.CreateRepo("o", "r", map[string]string{
		regPath: registry(claims, 0), "README.md": "# registry\n", "docs/other.yaml": "x: 1\n",
	})
	cfg := Config{
		Owner: "o", Repo: "r", Path: regPath, Token: testTok, APIURL: e.srv.URL(),
		Labels: []string{"registry", "automated"},
	}
	for _, m := range mod {
		m(&cfg)
	}
	pub, err := NewGitHub(cfg, Options{
		Clock: e.clock, Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTP: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			e.mu.Lock()
			e.paths = append(e.paths, r.URL.Path)
			e.mu.Unlock()
			return http.DefaultTransport.RoundTrip(r)
		}),
		OnCall: func(ep string, status int) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.onCall[fmt.Sprint(ep, " ", status)]++
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.pub = pub
	return e
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ctx is a run context with a deadline on the fake clock.
func (e *env) ctx(d time.Duration) context.Context { return withDeadline(e.t, e.clock, d) }

// outcome is one run as the reconcile function would do it.
type outcome struct {
	res       Result
	err       error
	calls     int // as seen by the fake
	mutations int
	counted   int // as counted by CountCalls
}

// run reads the base and publishes content, storing the state as the
// caller must (also on error).
func (e *env) run(ctx context.Context, content string, d Desired) outcome {
	e.t.Helper()
	calls0, mut0 := e.srv.CallCount(), e.srv.Mutations()
	ctx, counter := CountCalls(ctx)
	var o outcome
	base, err := e.pub.ReadBase(ctx)
	if err == nil {
		o.res, e.st, err = e.pub.Publish(ctx, base, []byte(content), d, e.st)
	}
	o.err = err
	o.calls, o.mutations, o.counted = e.srv.CallCount()-calls0, e.srv.Mutations()-mut0, counter.Calls()
	return o
}

// mustRun is run that fails the test on error.
func (e *env) mustRun(content string, d Desired) outcome {
	e.t.Helper()
	o := e.run(e.ctx(5*time.Minute), content, d)
	if o.err != nil {
		e.t.Fatalf("run: %v", o.err)
	}
	if o.counted != o.calls {
		e.t.Fatalf("counted %d calls, fake saw %d", o.counted, o.calls)
	}
	return o
}

// check runs Check and returns its answer and call count.
func (e *env) check() (bool, int) {
	e.t.Helper()
	calls0 := e.srv.CallCount()
	ok, err := e.pub.Check(e.ctx(time.Minute), e.st)
	if err != nil {
		e.t.Fatal(err)
	}
	return ok, e.srv.CallCount() - calls0
}

// onePR asserts exactly one open PR and returns it.
func (e *env) onePR() githubfake.PullRequest {
	e.t.Helper()
	open := e.repo.OpenPulls()
	if len(open) != 1 {
		e.t.Fatalf("%d open PRs, want 1: %+v", len(open), open)
	}
	return open[0]
}

func desired(gen int) Desired {
	return Desired{Title: "Update claim status", Body: fmt.Sprintf("| claim | old | new |\n|---|---|---|\n| generation %d | Ready | NotReady |", gen)}
}

func (e *env) branchHead() string {
	sha, _ := e.repo.Branch(prBranch)
	return sha
}

func (e *env) callsTo(method, pathPart string) int {
	n := 0
	for _, c := range e.srv.Calls() {
		if c.Method == method && strings.Contains(c.Path, pathPart) {
			n++
		}
	}
	return n
}

func TestCheck(t *testing.T) {
	e := newEnv(t, 10)
	if ok, calls := e.check(); ok || calls != 0 {
		t.Fatalf("unknown state: %v after %d calls", ok, calls)
	}
	e.mustRun(registry(10, 1), desired(1))
	if ok, calls := e.check(); !ok || calls != 1 {
		t.Fatalf("unchanged base: %v after %d calls", ok, calls)
	}
	e.repo.SetFile("main", "README.md", []byte("changed"))
	if ok, calls := e.check(); ok || calls != 1 {
		t.Fatalf("moved base: %v after %d calls", ok, calls)
	}
}

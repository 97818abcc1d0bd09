package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

const (
	ghToken  = "ghp_reconcile_test_token_0123456789"
	regPath  = "registry/claims.yaml"
	prBranch = "machinery-status-collector/registry"
)

// env is one reconcile over a real Redis and the fake GitHub.
type env struct {
	t     testing.TB
	redis *redistest.Server
	store *store.Store
	gh    *githubfake.Server
	repo  *githubfake.Repo
	fn    *Function
	vars  map[string]string
	logs  *servertest.Buffer
	seq   int
}

// seedRegistry is a clusters-layout registry with claims claim-0..n-1 in cluster-a.
func seedRegistry(n int) string {
	var b strings.Builder
	b.WriteString("# claims tracked by the platform team\ncluster-a:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: claim-%d\n    namespace: team\n    claimRef: team/claim-%d\n    statusMessage: unknown\n    lastCheckedAt: \"2026-01-01T00:00:00Z\"\n", i, i)
	}
	return b.String()
}

func newEnv(t testing.TB, claims int, extraEnv ...string) *env {
	t.Helper()
	e := &env{t: t, logs: &servertest.Buffer{}}
	e.redis = redistest.Start(t)
	e.store = store.New(e.redis.Client(), "")
	e.gh = githubfake.New(t, githubfake.WithToken(ghToken))
	e.repo = e.gh.CreateRepo("platform", "registry", map[string]string{regPath: seedRegistry(claims), "README.md": "# registry\n"})
	vars := map[string]string{
		"GITHUB_TOKEN": ghToken, "GITHUB_API_URL": e.gh.URL(), "REGISTRY_REPO_OWNER": "platform",
		"REGISTRY_REPO_NAME": "registry", "REGISTRY_FILE_PATH": regPath, "REGISTRY_PR_LABELS": "registry,automated",
		"RECONCILE_TIMEOUT": "20s", "RECONCILE_WARMUP": "0s",
	}
	for i := 0; i+1 < len(extraEnv); i += 2 {
		vars[extraEnv[i]] = extraEnv[i+1]
	}
	e.vars = vars
	e.fn = e.newFunction()
	return e
}

// newFunction builds a Function from e.vars, as a fresh process would.
func (e *env) newFunction() *Function {
	e.t.Helper()
	ce := config.FromMap(e.vars)
	cfg := ConfigFromEnv(ce)
	if err := ce.Err(); err != nil {
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fn, err := FromConfig(cfg, e.store, log, prometheus.NewRegistry())
	if err != nil {
		e.t.Fatal(err)
	}
	return fn
}

// put stores statuses for claims (indexes) of cluster-a with the given message.
func (e *env) put(msg string, claims ...int) {
	e.t.Helper()
	e.seq++
	var recs []status.Record
	for _, i := range claims {
		r := status.Record{Cluster: "cluster-a", ClaimRef: fmt.Sprintf("team/claim-%d", i), StatusMessage: msg, Ready: "True",
			ObservedAt: time.Date(2026, 11, 25, 10, 0, e.seq, 0, time.UTC).Format(time.RFC3339Nano)}
		if err := r.Normalize("", time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)); err != nil {
			e.t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if _, err := e.store.Apply(context.Background(), time.Now().UTC().Format(time.RFC3339Nano), recs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) run() Result {
	e.t.Helper()
	res, err := e.fn.Run(context.Background())
	if err != nil {
		e.t.Fatalf("Run: %v (result %+v)", err, res)
	}
	return res
}

func (e *env) generations() (int64, int64) {
	cur, done, err := e.store.Generations(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return cur, done
}

func TestRollingPullRequest(t *testing.T) {
	e := newEnv(t, 20)
	base, _ := e.repo.Branch("main")
	e.put("Available", 0, 1, 2)
	res := e.run()
	if res.Outcome != "opened" || res.PRNumber != 1 || !res.Reconciled || res.Changed != 3 || res.GitHubCalls > 8 {
		t.Fatalf("first run: %+v", res)
	}
	pulls := e.repo.OpenPulls()
	if len(pulls) != 1 || pulls[0].Head != prBranch || !reflect.DeepEqual(pulls[0].Labels, []string{"registry", "automated"}) ||
		!strings.Contains(pulls[0].Body, "| cluster-a | team/claim-1 | – | unknown | True: Available |") {
		t.Fatalf("PR after first run: %+v", pulls)
	}
	head, _ := e.repo.Branch(prBranch)
	if got := e.repo.ChangedPaths(base, head); !reflect.DeepEqual(got, []string{regPath}) {
		t.Fatalf("the commit changes %v, want only %s", got, regPath)
	}
	file, _ := e.repo.File(prBranch, regPath)
	if !strings.Contains(string(file), "claimRef: team/claim-2\n    statusMessage: Available\n") {
		t.Fatalf("branch file:\n%s", file)
	}

	for i := 1; i <= 10; i++ {
		e.put(fmt.Sprintf("Available round %d", i), i%20)
		before, _ := e.repo.Branch(prBranch)
		res := e.run()
		after, _ := e.repo.Branch(prBranch)
		if res.Outcome != "updated" || res.PRNumber != 1 || before == after || res.GitHubCalls > 8 {
			t.Fatalf("run %d: %+v (branch %s -> %s)", i, res, before, after)
		}
		if pr := e.repo.OpenPulls(); len(pr) != 1 || !strings.Contains(pr[0].Body, fmt.Sprintf("Available round %d", i)) {
			t.Fatalf("run %d: pulls %+v", i, pr)
		}
	}
	if n := len(e.repo.Pulls()); n != 1 {
		t.Fatalf("%d PRs were ever opened, want 1", n)
	}

	// Nothing new: one call (the base head check) and no mutation.
	calls, muts := e.gh.CallCount(), e.gh.Mutations()
	res = e.run()
	if res.Outcome != OutcomeSkipped || res.Reason != "clean" || res.GitHubCalls > 1 ||
		e.gh.CallCount()-calls > 1 || e.gh.Mutations() != muts {
		t.Fatalf("clean run: %+v, fake saw %d calls", res, e.gh.CallCount()-calls)
	}
	// A repeat of the same statuses keeps the generation, so it stays clean.
	e.put("Available", 0)
	if cur, done := e.generations(); cur != done {
		t.Fatalf("re-sent identical status dirtied the store: %d > %d", cur, done)
	}
}

func TestBaseAlreadyHoldsDesiredFileClosesPR(t *testing.T) {
	e := newEnv(t, 5)
	e.put("Available", 0, 1)
	if res := e.run(); res.Outcome != "opened" {
		t.Fatalf("first run: %+v", res)
	}
	desired, _ := e.repo.File(prBranch, regPath)
	e.repo.SetFile("main", regPath, desired) // someone applied the same change on the base
	res := e.run()
	if res.Outcome != "closed" || !res.Reconciled {
		t.Fatalf("run after base caught up: %+v", res)
	}
	pr := e.repo.Pulls()[0]
	if pr.State != "closed" || len(pr.Comments) != 1 {
		t.Fatalf("PR %+v, want closed with one comment", pr)
	}
	if _, ok := e.repo.Branch(prBranch); ok {
		t.Fatal("PR branch not deleted")
	}
}

func TestUpdateDuringRunLandsInNextRun(t *testing.T) {
	e := newEnv(t, 5)
	e.put("Available", 0)
	// Hold the run at its tree creation long enough to store an update.
	e.gh.Inject(githubfake.Fault{Kind: githubfake.Latency, Method: "POST", Path: "/git/trees", Wait: 500 * time.Millisecond})
	done := make(chan Result, 1)
	go func() { res, _ := e.fn.Run(context.Background()); done <- res }()
	waitFor(t, "the run to reach POST trees", func() bool {
		for _, c := range e.gh.Calls() {
			if c.Method == "POST" && strings.HasSuffix(c.Path, "/git/trees") {
				return true
			}
		}
		return e.gh.PendingFaults() == 0
	})
	e.put("Changed mid-run", 1)
	first := <-done
	cur, reconciled := e.generations()
	if first.Outcome != "opened" || first.Generation != 1 || reconciled != 1 || cur != 2 {
		t.Fatalf("first run %+v; generations %d/%d, want it to mark only what it read", first, cur, reconciled)
	}
	second := e.run()
	file, _ := e.repo.File(prBranch, regPath)
	if second.Outcome != "updated" || !strings.Contains(string(file), "Changed mid-run") {
		t.Fatalf("second run %+v, file:\n%s", second, file)
	}
}

func TestConcurrentRunsOneSkips(t *testing.T) {
	e := newEnv(t, 5)
	e.put("Available", 0)
	e.gh.Inject(githubfake.Fault{Kind: githubfake.Latency, Wait: 300 * time.Millisecond})
	first := make(chan Result, 1)
	go func() { res, _ := e.fn.Run(context.Background()); first <- res }()
	waitFor(t, "the first run to call GitHub", func() bool { return e.gh.CallCount() > 0 || e.gh.PendingFaults() == 0 })
	second := e.run()
	if second.Outcome != OutcomeSkipped || second.Reason != "locked" {
		t.Fatalf("second run: %+v, want skipped: locked", second)
	}
	if res := <-first; res.Outcome != "opened" {
		t.Fatalf("first run: %+v", res)
	}
	if n := len(e.repo.Pulls()); n != 1 {
		t.Fatalf("%d PRs", n)
	}
}

func TestRateLimitedRun(t *testing.T) {
	t.Run("waits and succeeds", func(t *testing.T) {
		e := newEnv(t, 5)
		e.put("Available", 0)
		e.gh.Inject(githubfake.Fault{Kind: githubfake.SecondaryRateLimit, Method: "POST", Path: "/pulls", Wait: time.Second})
		res := e.run()
		if res.Outcome != "opened" || len(e.repo.OpenPulls()) != 1 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("fails past the deadline, next run completes", func(t *testing.T) {
		e := newEnv(t, 5, "RECONCILE_TIMEOUT", "5s")
		e.put("Available", 0)
		e.gh.Inject(githubfake.Fault{Kind: githubfake.PrimaryRateLimit, Method: "POST", Path: "/pulls", Wait: time.Hour})
		res, err := e.fn.Run(context.Background())
		if err == nil || res.Outcome != OutcomeFailed || !strings.Contains(err.Error(), "rate limit") {
			t.Fatalf("run under a 1h limit: %+v, %v", res, err)
		}
		if _, done := e.generations(); done != 0 {
			t.Fatal("a failed run marked the generation reconciled")
		}
		// The next run is a new process (the next CronJob pod, or a new
		// Knative revision) after the limit reset: it finds a consistent
		// state in Redis and GitHub and completes the work.
		e.fn = e.newFunction()
		res = e.run()
		if res.Outcome != "opened" || len(e.repo.OpenPulls()) != 1 || len(e.repo.Pulls()) != 1 {
			t.Fatalf("next run: %+v; pulls %+v", res, e.repo.Pulls())
		}
	})
}

func TestForeignCommitIsNotOverwritten(t *testing.T) {
	e := newEnv(t, 5)
	e.put("Available", 0)
	e.run()
	foreign := e.repo.SetFile(prBranch, "NOTES.md", []byte("a reviewer's note\n"))
	e.put("Broken", 1)
	res := e.run()
	head, _ := e.repo.Branch(prBranch)
	if res.Outcome != "foreign-commit" || res.Reconciled || head != foreign {
		t.Fatalf("%+v; branch head %s, want the foreign commit %s kept", res, head, foreign)
	}
	if cur, done := e.generations(); done >= cur {
		t.Fatal("generation marked reconciled although the PR was not updated")
	}
}

func TestBrokenRegistryFailsWithoutPR(t *testing.T) {
	e := newEnv(t, 5)
	e.repo.SetFile("main", regPath, []byte("cluster-a:\n  - name: x\n    claimRef: [unclosed\n"))
	e.put("Available", 0)
	res, err := e.fn.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "line") || res.Outcome != OutcomeFailed {
		t.Fatalf("%+v, %v", res, err)
	}
	if len(e.repo.Pulls()) != 0 {
		t.Fatal("a PR was opened for a broken registry")
	}
	if _, done := e.generations(); done != 0 {
		t.Fatal("generation marked reconciled")
	}
	if strings.Contains(e.logs.String(), ghToken) {
		t.Fatal("the GitHub token appears in the log")
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWarmupAfterWipe(t *testing.T) {
	e := newEnv(t, 5, "RECONCILE_WARMUP", "1h")
	e.put("Available", 0, 1)
	res := e.run()
	if res.Outcome != OutcomeSkipped || res.Reason != "warming-up" || len(e.repo.Pulls()) != 0 {
		t.Fatalf("young store without publish state: %+v", res)
	}
	// Past the warm-up (the store's first write is old enough), it publishes.
	e.fn.opts.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if res := e.run(); res.Outcome != "opened" {
		t.Fatalf("after the warm-up: %+v", res)
	}
	e.fn.opts.Now = time.Now
	// Redis restarts empty; the first agent batch arrives. The PR must not
	// be closed or regressed from that partial store.
	e.redis.Restart()
	e.put("Available", 0)
	if res := e.run(); res.Outcome != OutcomeSkipped || res.Reason != "warming-up" {
		t.Fatalf("right after a wipe: %+v", res)
	}
	if open := e.repo.OpenPulls(); len(open) != 1 {
		t.Fatalf("the PR was closed after a wipe: %+v", e.repo.Pulls())
	}
}

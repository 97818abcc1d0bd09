// Package e2e proves the whole collector end to end under load and faults:
// a real kube-apiserver standing in for three clusters (one namespace and
// one agent each), the ingest and reconcile functions as the binaries
// Knative runs (functions-framework over HTTP), a real redis-server and
// the fake GitHub. It has only tests.
package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Sizes and durations of the run. The whole test stays under about five
// minutes on a busy 2-core machine; most of it is churn and API server
// start.
const (
	clusterCount = 3
	claimCount   = 1000
	// churnRate bounds the status patches per second of all writers
	// (churnFor, below, is how long they write).
	churnRate    = 80
	churnWriters = 4
	churnSeed    = 20261125
	// reconcileEvery is the PingSource stand-in: every tick fires both
	// reconcile replicas at once.
	reconcileEvery = 2 * time.Second
	// resyncPeriod is the agents' full re-send; it heals a wiped Redis.
	resyncPeriod = 4 * time.Second
	// Outages: how long Redis and the ingest stay down when restarted.
	redisOutage  = 1500 * time.Millisecond
	ingestOutage = time.Second
	agentOutage  = time.Second

	initialSyncTimeout = 2 * time.Minute
	settleTimeout      = 2 * time.Minute
	maxBodyBytes       = 1 << 20

	regPath  = "registry/claims.yaml"
	prBranch = "machinery-status-collector/registry"
)

// churnFor is how long statuses change while faults are injected: 20 s
// by default, 40 s with MSC_TEST_LONG=1 (make test-long). The fault
// timeline stretches with it; each outage keeps its own length.
func churnFor() time.Duration {
	if os.Getenv("MSC_TEST_LONG") == "1" {
		return 40 * time.Second
	}
	return 20 * time.Second
}

// churnMessages are Ready messages the writers pick from; "" makes the
// agent send "Ready=<status>". Some need quoting in YAML.
var churnMessages = []string{
	"", "Available", "creating the managed database", "cannot connect: i/o timeout",
	"quota exceeded (limit: 5)", `waiting for "vpc-7" to be ready`, "ready: yes # not a comment",
	"Ünïcode status – ok", "- starts like a list item", "'single' quotes",
}

func TestFleetUnderFaults(t *testing.T) {
	began := time.Now()
	l := newLogs()
	// In-process output (client-go's klog, anything on slog.Default) is
	// captured too, so the secret scan covers every line.
	klog.SetSlogLogger(slog.New(slog.NewJSONHandler(l.stream("klog"), nil)))
	prevDefault := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(l.stream("slog-default"), &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prevDefault) })
	// MSC_E2E_LOGS=dir keeps every component's log of the run.
	if dir := os.Getenv("MSC_E2E_LOGS"); dir != "" {
		t.Cleanup(func() {
			if err := l.dump(dir); err != nil {
				t.Error(err)
			}
		})
	}

	// Build the binaries while the API server starts.
	const ingestPkg, reconcilePkg = "../../functions/ingest/cmd", "../../functions/reconcile/cmd"
	var bins map[string]string
	built := make(chan struct{})
	var buildErr error
	binDir := t.TempDir()
	go func() {
		defer close(built)
		bins, buildErr = buildAll(binDir, ingestPkg, reconcilePkg)
	}()
	t.Cleanup(func() { <-built }) // before binDir is removed

	agentKubeToken := secret(t, "kube-agent-")
	kube := kubetest.Start(t, kubetest.Options{Users: []kubetest.User{{Name: agentUser, Token: agentKubeToken}}})
	admin := dynamic.NewForConfigOrDie(kube.RESTConfig())
	cs := newClusters(t, clusterCount, claimCount)
	installAPI(t, kube, admin, agentKubeToken, cs)
	t.Logf("API server up, %d claims in %d namespaces after %s", claimCount, clusterCount, time.Since(began).Round(time.Millisecond))

	redis := redistest.Start(t)
	st := store.New(redis.Client(), "")
	ghToken := secret(t, "ghp_")
	gh := githubfake.New(t, githubfake.WithToken(ghToken))
	repo := gh.CreateRepo("platform", "registry", map[string]string{regPath: seedRegistry(cs), "README.md": "# registry\n"})

	<-built
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	var tokens []string
	for _, c := range cs {
		tokens = append(tokens, c.name+"="+c.token)
	}
	ingest := newProc(t, "ingest", bins[ingestPkg], servertest.FreePort(t), l,
		"FUNCTION_TARGET=ingest", "REDIS_URL="+redis.URL, "INGEST_TOKENS="+strings.Join(tokens, ","),
		"INGEST_MAX_BODY_BYTES="+strconv.Itoa(maxBodyBytes), "LOG_FORMAT=json", "LOG_LEVEL=debug")
	ingest.start()
	var reconcilers []*proc
	for i := range 2 {
		p := newProc(t, fmt.Sprintf("reconcile-%d", i), bins[reconcilePkg], servertest.FreePort(t), l,
			"FUNCTION_TARGET=reconcile", "REDIS_URL="+redis.URL, "LOG_FORMAT=json", "LOG_LEVEL=debug",
			"GITHUB_TOKEN="+ghToken, "GITHUB_API_URL="+gh.URL(),
			"REGISTRY_REPO_OWNER=platform", "REGISTRY_REPO_NAME=registry", "REGISTRY_FILE_PATH="+regPath,
			"REGISTRY_ADD_MISSING=true", "REGISTRY_PR_LABELS=registry,automated", "RECONCILE_TIMEOUT=30s",
			// Past one agent resync (with its jitter), so a wiped Redis is refilled before a PR is rebuilt from it.
			"RECONCILE_WARMUP="+(2*resyncPeriod).String())
		p.start()
		reconcilers = append(reconcilers, p)
	}

	agents := map[string]*runningAgent{}
	incarnation := map[string]int{}
	startClusterAgent := func(c *cluster) {
		incarnation[c.name]++
		agents[c.name] = startAgent(t, kube, agentKubeToken, l, fmt.Sprintf("agent %s#%d", c.name, incarnation[c.name]),
			agentVars(c, ingest.URL(), c.token))
	}
	for _, c := range cs {
		startClusterAgent(c)
	}
	syncStart := time.Now()
	eventually(t, initialSyncTimeout, "initial sync of every claim into Redis", func() bool {
		recs, err := st.AllRecords(context.Background())
		return err == nil && len(recs) == claimCount
	})
	t.Logf("initial sync of %d claims took %s", claimCount, time.Since(syncStart).Round(time.Millisecond))

	ev := &events{client: &http.Client{Timeout: time.Minute}}
	// The first runs skip as "warming-up" until the store is one resync
	// period old (RECONCILE_WARMUP), then one opens the PR.
	eventually(t, initialSyncTimeout+2*resyncPeriod, "the first PR", func() bool {
		if code := ev.fire(reconcilers[0].URL()); code/100 != 2 {
			t.Fatalf("first reconcile answered %d:\n%s", code, l.tail("reconcile-0#1", 4000))
		}
		return len(repo.OpenPulls()) == 1
	})

	// Churn: writers patch random claims' Ready condition at churnRate
	// while the faults below hit every component; a ticker fires both
	// reconcile replicas at once.
	churnStart := time.Now()
	churnEnd := churnStart.Add(churnFor())
	var updates, recreated atomic.Int64
	var writers sync.WaitGroup
	for w := range churnWriters {
		writers.Add(1)
		go func() {
			defer writers.Done()
			churn(t, admin, cs, uint64(w), churnEnd, &updates)
		}()
	}
	writers.Add(1)
	go func() {
		defer writers.Done()
		recreate(t, admin, cs, churnEnd, &recreated)
	}()
	tickCtx, stopTicks := context.WithCancel(context.Background())
	ticks := make(chan struct{})
	go func() {
		defer close(ticks)
		tk := time.NewTicker(reconcileEvery)
		defer tk.Stop()
		for {
			select {
			case <-tickCtx.Done():
				return
			case <-tk.C:
				ev.fireAll(reconcilers)
			}
		}
	}()

	var faults []string
	inject := func(name string, fs ...githubfake.Fault) {
		for _, f := range fs {
			gh.Inject(f)
		}
		faults = append(faults, name)
	}
	// Each outage lasts its full duration: the sleeps are the outages
	// themselves, not synchronisation.
	wipeRedis := func() {
		redis.Stop()
		time.Sleep(redisOutage)
		redis.Restart()
		faults = append(faults, "redis: killed, down "+redisOutage.String()+", restarted empty")
	}
	restartIngest := func() {
		ingest.kill()
		time.Sleep(ingestOutage)
		ingest.start()
		faults = append(faults, "ingest: killed, down "+ingestOutage.String()+", restarted")
	}
	restartAgent := func(c *cluster) func() {
		return func() {
			agents[c.name].stop()
			time.Sleep(agentOutage)
			startClusterAgent(c)
			faults = append(faults, "agent "+c.name+": stopped, down "+agentOutage.String()+", restarted")
		}
	}
	// at is in fortieths of the churn: the schedule of the 40 s churn.
	timeline := []struct {
		at int
		do func()
	}{
		{3, func() {
			inject("github: 502 twice on POST trees, 500 on GET ref",
				githubfake.Fault{Kind: githubfake.ServerError, Status: 502, Method: "POST", Path: "/git/trees", Times: 2},
				githubfake.Fault{Kind: githubfake.ServerError, Status: 500, Method: "GET", Path: "/git/ref"})
		}},
		{6, wipeRedis},
		{10, func() {
			inject("github: secondary rate limit (Retry-After 1s) on POST commits, 429 (Retry-After 1s)",
				githubfake.Fault{Kind: githubfake.SecondaryRateLimit, Method: "POST", Path: "/git/commits", Wait: time.Second},
				githubfake.Fault{Kind: githubfake.TooManyRequests, Wait: time.Second})
		}},
		{13, restartIngest},
		{17, func() {
			inject("github: primary rate limit exhausted, reset in 2s",
				githubfake.Fault{Kind: githubfake.PrimaryRateLimit, Wait: 2 * time.Second})
		}},
		{20, restartAgent(cs[1])},
		{24, func() {
			inject("github: 503 on six calls in a row (one run fails), one connection reset",
				githubfake.Fault{Kind: githubfake.ServerError, Status: 503, Times: 6},
				githubfake.Fault{Kind: githubfake.ConnectionReset})
		}},
		{28, wipeRedis},
		{32, restartIngest},
		{35, restartAgent(cs[2])},
	}
	for _, f := range timeline {
		time.Sleep(time.Until(churnStart.Add(churnFor() * time.Duration(f.at) / 40))) // the fault schedule, not synchronisation
		f.do()
	}
	writers.Wait()
	stopTicks()
	<-ticks
	churned := time.Since(churnStart)
	if t.Failed() {
		t.FailNow()
	}

	// Settle: keep firing both replicas until the PR branch holds the
	// truth of the API server.
	want := truth(t, admin, cs)
	settleStart := time.Now()
	var diffs []string
	for {
		ev.fireAll(reconcilers)
		file, ok := repo.File(prBranch, regPath)
		if ok {
			var err error
			if diffs, err = diffRegistry(file, want); err != nil {
				t.Fatal(err)
			}
			if len(diffs) == 0 {
				break
			}
		} else {
			diffs = []string{"no registry file on " + prBranch}
		}
		if time.Since(settleStart) > settleTimeout {
			recs, _ := st.AllRecords(context.Background())
			gen, done, _ := st.Generations(context.Background())
			t.Fatalf("PR branch still differs from the clusters after %s (%d differences; Redis holds %d records, generation %d, reconciled %d):\n%s\nreconcile-0 log tail:\n%s",
				settleTimeout, len(diffs), len(recs), gen, done, strings.Join(first(diffs, 20), "\n"), l.tail("reconcile-0#1", 3000))
		}
		time.Sleep(time.Second) // poll interval between reconcile rounds
	}
	settled := time.Since(settleStart)
	checkRecreatedUIDs(t, admin, st, cs)

	pulls := repo.OpenPulls()
	if len(pulls) != 1 || pulls[0].Head != prBranch {
		t.Fatalf("want exactly one open PR from %s, have %+v", prBranch, pulls)
	}
	// A quiet fleet costs at most one GitHub call per run and changes nothing.
	ev.fire(reconcilers[0].URL())
	before, mutBefore := gh.CallCount(), gh.Mutations()
	ev.fire(reconcilers[1].URL())
	if calls, muts := gh.CallCount()-before, gh.Mutations()-mutBefore; calls > 1 || muts != 0 {
		t.Errorf("a reconcile of the settled fleet made %d GitHub calls (%d mutating), want at most 1 and none mutating", calls, muts)
	}
	if file, _ := repo.File(prBranch, regPath); len(mustDiff(t, file, want)) != 0 {
		t.Errorf("PR branch changed after settling")
	}

	t.Run("security", func(t *testing.T) { securityCheck(t, ingest.URL(), st, cs, l, kube, agentKubeToken) })

	// Nothing may have logged a secret. The API server's log is read last.
	if _, err := l.stream("kube-apiserver").Write([]byte(kube.LogTail(1 << 30))); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"GITHUB_TOKEN": ghToken}
	for _, c := range cs {
		secrets["ingest token of "+c.name] = c.token
	}
	for _, lk := range l.leaks(secrets) {
		t.Errorf("%s appears in log %q line %d", lk.secret, lk.stream, lk.line)
	}

	// What the run saw, for the report.
	outcomes := map[string]int{}
	l.jsonLines("reconcile-", func(m map[string]any) {
		if msg, _ := m["msg"].(string); msg == "reconcile" || msg == "reconcile failed" {
			o, _ := m["outcome"].(string)
			if r, _ := m["reason"].(string); r != "" {
				o += ":" + r
			}
			outcomes[o]++
		}
	})
	batches := map[string]int{}
	l.jsonLines("ingest#", func(m map[string]any) {
		if m["msg"] == "request" && m["path"] == "/api/v1/statuses" {
			batches[fmt.Sprint(m["status"])]++
		}
	})
	byFault := map[string]int{}
	for _, c := range gh.Calls() {
		if c.Fault != 0 {
			byFault[c.Fault.String()]++
		}
	}
	gen, _, _ := st.Generations(context.Background())
	if outcomes["skipped:locked"] == 0 {
		t.Errorf("no reconcile was ever skipped as locked: the two replicas never overlapped (outcomes %v)", outcomes)
	}
	t.Logf("e2e summary:\n"+
		"  claims: %d in %d clusters; churn: %d status updates in %s (%d writers, seed %d), %d claims deleted and recreated\n"+
		"  faults injected (%d): %s\n"+
		"  GitHub: %d calls (%d mutating), faults served %v, faults never reached %d\n"+
		"  reconcile runs by outcome: %v; CloudEvents answered %v\n"+
		"  ingest batch requests by status: %v; Redis generation now %d\n"+
		"  settled %s after churn stopped; registry file equals the API server for all %d claims; open PRs: 1 (#%d), PRs ever opened: %d\n"+
		"  log lines scanned: %d in %d streams, no secret found\n"+
		"  total %s",
		claimCount, clusterCount, updates.Load(), churned.Round(time.Millisecond), churnWriters, churnSeed, recreated.Load(),
		len(faults), strings.Join(faults, "; "),
		gh.CallCount(), gh.Mutations(), byFault, gh.PendingFaults(),
		outcomes, ev.codes(),
		batches, gen,
		settled.Round(time.Millisecond), claimCount, pulls[0].Number, len(repo.Pulls()),
		l.lines(""), len(l.names()),
		time.Since(began).Round(time.Second))
}

// churn is one writer: until end, it sets a random claim's Ready
// condition to True or False with a random message, pacing itself so all
// writers together stay near churnRate.
func churn(t *testing.T, admin dynamic.Interface, cs []*cluster, id uint64, end time.Time, updates *atomic.Int64) {
	rng := rand.New(rand.NewPCG(churnSeed, id))
	interval := time.Duration(churnWriters) * time.Second / churnRate
	next := time.Now()
	for time.Now().Before(end) {
		c := cs[rng.IntN(len(cs))]
		i := rng.IntN(len(c.claims))
		if recreated(i) {
			continue // the recreate writer's; patching one it deleted would fail
		}
		claim := c.claims[i]
		ready := "True"
		if rng.IntN(10) < 4 {
			ready = "False"
		}
		msg := churnMessages[rng.IntN(len(churnMessages))]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := setStatus(ctx, admin, c.ns, claim, ready, msg)
		cancel()
		if err != nil {
			t.Errorf("churn: %v", err)
			return
		}
		updates.Add(1)
		next = next.Add(interval)
		time.Sleep(time.Until(next)) // pacing to the churn rate
	}
}

// recreateEvery is how often the recreate writer deletes a claim and
// creates it again; recreated tells which claims are its own.
const recreateEvery = time.Second

func recreated(i int) bool { return i%50 == 7 }

// recreate deletes one of its claims and creates it again at once, under
// the same name but with a new uid, then gives it a status; round robin
// over the clusters until end. The agent reports the deletion and then
// the new claim; the registry must end with the new claim's status.
func recreate(t *testing.T, admin dynamic.Interface, cs []*cluster, end time.Time, count *atomic.Int64) {
	for n := 0; time.Now().Before(end); n++ {
		c := cs[n%len(cs)]
		var own []claimID
		for i, id := range c.claims {
			if recreated(i) {
				own = append(own, id)
			}
		}
		id := own[(n/len(cs))%len(own)]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := admin.Resource(id.gvr).Namespace(c.ns).Delete(ctx, id.name, metav1.DeleteOptions{})
		if err == nil {
			err = createClaim(ctx, admin, c.ns, id)
		}
		if err == nil {
			err = setStatus(ctx, admin, c.ns, id, "False", fmt.Sprintf("recreated (%d)", n))
		}
		cancel()
		if err != nil {
			t.Errorf("recreate: %v", err)
			return
		}
		count.Add(1)
		time.Sleep(recreateEvery) // pacing, not synchronisation
	}
}

// checkRecreatedUIDs checks that Redis holds every recreated claim under
// the uid of its latest incarnation on the API server.
func checkRecreatedUIDs(t *testing.T, admin dynamic.Interface, st *store.Store, cs []*cluster) {
	t.Helper()
	recs, err := st.AllRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	for _, r := range recs {
		stored[r.Cluster+"/"+r.ClaimRef] = r.UID
	}
	for _, c := range cs {
		for i, id := range c.claims {
			if !recreated(i) {
				continue
			}
			obj, err := admin.Resource(id.gvr).Namespace(c.ns).Get(context.Background(), id.name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := stored[c.name+"/"+c.ns+"/"+id.name], string(obj.GetUID()); got != want {
				t.Errorf("%s %s/%s: Redis holds uid %q, the API server %q", c.name, c.ns, id.name, got, want)
			}
		}
	}
}

// events sends binary-mode CloudEvents, as a Knative PingSource does.
type events struct {
	client *http.Client
	seq    atomic.Int64
	mu     sync.Mutex
	byCode map[int]int
}

// fire sends one event to url and returns the answer's status, 0 when
// there was none.
func (e *events) fire(url string) int {
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(`{"message":"tick"}`))
	if err != nil {
		panic(err) // the URL is ours and always parses
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Type", "dev.knative.sources.ping")
	req.Header.Set("Ce-Source", "/apis/v1/namespaces/msc/pingsources/reconcile")
	req.Header.Set("Ce-Id", "e2e-"+strconv.FormatInt(e.seq.Add(1), 10))
	req.Header.Set("Ce-Time", time.Now().UTC().Format(time.RFC3339))
	code := 0
	if resp, err := e.client.Do(req); err == nil {
		resp.Body.Close()
		code = resp.StatusCode
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byCode == nil {
		e.byCode = map[int]int{}
	}
	e.byCode[code]++
	return code
}

// fireAll fires every replica at the same moment and waits for all.
func (e *events) fireAll(ps []*proc) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); e.fire(p.URL()) }()
	}
	wg.Wait()
}

func (e *events) codes() map[int]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[int]int, len(e.byCode))
	for k, v := range e.byCode {
		out[k] = v
	}
	return out
}

func mustDiff(t *testing.T, file []byte, want map[string]map[string]expected) []string {
	t.Helper()
	d, err := diffRegistry(file, want)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}

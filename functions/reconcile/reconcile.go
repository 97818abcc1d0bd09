// Package reconcile is the scheduled function that turns the stored claim
// statuses into one rolling pull request against the registry repository.
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Outcomes of a run, in Result.Outcome.
const (
	OutcomeSkipped = "skipped" // Reason says why: "locked" or "clean"
	OutcomeFailed  = "failed"
	// The other outcomes are the publisher's actions: opened, updated,
	// unchanged, closed, foreign-commit.
)

// Result is what one run did; it is the run's JSON answer and log line.
type Result struct {
	Outcome          string `json:"outcome"`
	Reason           string `json:"reason,omitempty"`
	PRNumber         int    `json:"prNumber,omitempty"`
	PRURL            string `json:"prURL,omitempty"`
	Generation       int64  `json:"generation"`
	Reconciled       bool   `json:"reconciled"` // Generation is now marked reconciled
	Records          int    `json:"records"`
	Changed          int    `json:"changed"`
	Missing          int    `json:"missing"`
	Deleted          int    `json:"deleted"`
	GitHubCalls      int    `json:"githubCalls"`
	GitHubMutations  int    `json:"githubMutations"`
	DurationMillis   int64  `json:"durationMillis"`
	Note             string `json:"note,omitempty"`
	Error            string `json:"error,omitempty"`
	pendingAfterward int64

	// Verified and VerificationReason: GitHub's verification of the
	// commit the run made (absent when it made none).
	Verified           *bool  `json:"verified,omitempty"`
	VerificationReason string `json:"verificationReason,omitempty"`
}

// Options are a Function's dependencies and settings.
type Options struct {
	Store     *store.Store
	Publisher publish.Publisher
	// Registry tunes the registry edit (REGISTRY_ADD_MISSING).
	Registry registry.Options
	// FilePath names the registry file in PR texts.
	FilePath string
	// Timeout bounds one run (default 4m); LockTTL bounds how long a
	// crashed run can block the next (default Timeout + 1m).
	Timeout time.Duration
	LockTTL time.Duration
	// Warmup holds back a store without publish state (first start, or
	// Redis restarted empty) until its first write is this old, so the
	// agents' resync has refilled it (RECONCILE_WARMUP; 0: off).
	Warmup  time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
	Metrics *Metrics // nil: not measured
}

// Function runs reconciles. Build it with New; it is safe for concurrent
// use (runs exclude each other through the Redis lock, across processes).
type Function struct {
	opts Options
	log  *slog.Logger
}

// New fills defaults and returns the Function.
func New(opts Options) *Function {
	if opts.Timeout <= 0 {
		opts.Timeout = 4 * time.Minute
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = opts.Timeout + time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Function{opts: opts, log: opts.Logger}
}

// Run performs one reconcile and returns its result. The error is non-nil
// exactly when the outcome is "failed"; the result is meaningful either way.
//
//  1. Take the lock; another run holding it means "skipped: locked".
//  2. Read the generation; if nothing changed since the last success and
//     the base branch has not moved (one GitHub call), "skipped: clean".
//  3. Read the registry at the base head, apply every stored status
//     (the whole desired state), and publish the result as one PR.
//  4. On success mark the generation read in step 2 as reconciled, so an
//     update stored during the run makes the next run dirty; only while
//     the lock is still ours, so a Redis wiped during the run stays dirty.
func (f *Function) Run(ctx context.Context) (Result, error) {
	start := f.opts.Now()
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	ctx, calls := publish.CountCalls(ctx)
	res, err := f.run(ctx)
	res.GitHubCalls, res.GitHubMutations = calls.Calls(), calls.Mutations()
	res.DurationMillis = f.opts.Now().Sub(start).Milliseconds()
	if err != nil {
		res.Outcome, res.Error = OutcomeFailed, err.Error()
	}
	f.opts.Metrics.observe(res, f.opts.Now().Sub(start))
	attrs := []any{"outcome", res.Outcome, "reason", res.Reason, "generation", res.Generation,
		"changed", res.Changed, "github_calls", res.GitHubCalls, "duration_ms", res.DurationMillis}
	if res.PRURL != "" {
		attrs = append(attrs, "pr", res.PRURL)
	}
	if err != nil {
		f.log.Error("reconcile failed", append(attrs, "err", err)...)
	} else {
		f.log.Info("reconcile", attrs...)
	}
	return res, err
}

func (f *Function) run(ctx context.Context) (res Result, err error) {
	st := f.opts.Store
	lease, err := st.Acquire(ctx, f.opts.LockTTL)
	if errors.Is(err, store.ErrLocked) {
		return Result{Outcome: OutcomeSkipped, Reason: "locked"}, nil
	}
	if err != nil {
		return res, err
	}
	defer func() {
		// Release even when ctx is done: a fresh context, briefly.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := lease.Release(rctx); rerr != nil {
			f.log.Warn("reconcile: lock not released; it expires by itself", "err", rerr)
		}
	}()

	gen, reconciled, err := st.Generations(ctx)
	if err != nil {
		return res, err
	}
	res.Generation = gen
	res.pendingAfterward = gen - reconciled
	state, err := f.loadState(ctx)
	if err != nil {
		return res, err
	}
	if !state.Known() && f.opts.Warmup > 0 {
		// No memory of a previous publish: a first start, or a Redis that
		// restarted empty. Until every agent has re-sent its claims (one
		// resync period), the store holds only part of the fleet, and
		// publishing it would close or regress the PR.
		since, ok, err := st.Since(ctx)
		if err != nil {
			return res, err
		}
		if age := f.opts.Now().Sub(since); !ok || age < f.opts.Warmup {
			res.Outcome, res.Reason = OutcomeSkipped, "warming-up"
			res.Note = fmt.Sprintf("store has no publish state and holds statuses for %s of the %s warm-up (RECONCILE_WARMUP)", age.Round(time.Second), f.opts.Warmup)
			if !ok {
				res.Note = "store is empty; waiting for the agents (RECONCILE_WARMUP)"
			}
			return res, nil
		}
	}
	if gen <= reconciled && state.Known() {
		unchanged, err := f.opts.Publisher.Check(ctx, state.State)
		if err != nil {
			return res, fmt.Errorf("check base branch: %w", err)
		}
		if unchanged {
			res.Outcome, res.Reason, res.Reconciled = OutcomeSkipped, "clean", true
			res.pendingAfterward = 0
			return res, f.autoMerge(ctx, state, &res)
		}
	}

	pres, newState, perr := f.publish(ctx, state, &res)
	// The publisher's state is its best knowledge even after a failure;
	// nil when the run failed before publishing.
	if newState != nil {
		if err := f.saveState(ctx, *newState); err != nil && perr == nil {
			perr = err
		}
	}
	res.Outcome, res.PRNumber, res.PRURL, res.Note = pres.Action, pres.PRNumber, pres.PRURL, pres.Note
	res.Verified, res.VerificationReason = pres.Verified, pres.VerificationReason
	if perr != nil {
		return res, perr
	}
	if pres.Action == publish.ActionForeignCommit {
		// Not an error, but not done either: keep the generation dirty so
		// every run reports it until someone resolves the branch.
		return res, nil
	}
	if err := lease.MarkReconciled(ctx, gen); err != nil {
		if !errors.Is(err, store.ErrLockLost) {
			return res, err
		}
		// Redis restarted empty (or the lock expired) during the run: the
		// generation read may belong to a Redis that is gone. Leave the
		// store dirty; the next run applies everything again.
		res.Note = joinNote(res.Note, "lock lost during the run (Redis restarted?); generation left dirty for the next run")
		f.log.Warn("reconcile: lock lost during the run; not marking the generation reconciled", "generation", gen)
		return res, nil
	}
	res.Reconciled = true
	after, _, err := st.Generations(ctx)
	if err == nil {
		res.pendingAfterward = after - gen
	}
	return res, f.mergeIfUnchanged(ctx, pres.Action, newState, &res)
}

// publish is step 3 of Run: read the registry, apply the stored
// statuses, publish. One file is read whole with every record (read
// cluster by cluster); a sharded registry goes through publishSharded.
func (f *Function) publish(ctx context.Context, state savedState, res *Result) (publish.Result, *savedState, error) {
	pat, err := publish.ParsePattern(f.opts.FilePath)
	if err != nil {
		return publish.Result{}, nil, err
	}
	if pat.Sharded() {
		return f.publishSharded(ctx, pat, state, res)
	}
	records, err := f.readRecords(ctx)
	if err != nil {
		return publish.Result{}, nil, err
	}
	res.Records = len(records)
	base, err := f.opts.Publisher.ReadBase(ctx)
	if err != nil {
		return publish.Result{}, nil, fmt.Errorf("read registry: %w", err)
	}
	desired, report, err := registry.Apply(base.Content, records, f.opts.Registry)
	if err != nil {
		return publish.Result{}, nil, fmt.Errorf("registry %s at %s: %w", f.opts.FilePath, short(base.SHA), err)
	}
	records = nil // let the collector have them while the PR is written
	res.Changed, res.Deleted = len(report.Changed), len(report.Deleted)
	res.Missing = len(report.Missing)
	title, body := PRText(f.opts.FilePath, report)
	pres, newState, perr := f.opts.Publisher.Publish(ctx, base, desired, publish.Desired{Title: title, Body: body, Fields: new(PRFields(f.opts.FilePath, report))}, state.State)
	if perr != nil {
		perr = fmt.Errorf("publish: %w", perr)
	}
	return pres, &savedState{State: newState}, perr
}

// readRecords reads every record, one cluster at a time, so the store's
// raw answer for only one cluster is held beside the decoded records.
// The clusters' counts size the slice up front: grown by appending, a
// 100k fleet's records would be copied several times and the last copy
// would hold up to twice their size.
func (f *Function) readRecords(ctx context.Context) ([]status.Record, error) {
	sums, err := f.opts.Store.Summaries(ctx)
	if err != nil {
		return nil, err
	}
	var total int64
	for _, s := range sums {
		total += s.Ready + s.NotReady + s.Deleted
	}
	// The counts are a hint (kept by the write script); a wrong one only
	// costs an append's growth, never a record.
	all := make([]status.Record, 0, min(max(total, 0), maxRecordsHint))
	for _, s := range sums {
		recs, err := f.opts.Store.ClusterRecords(ctx, s.Cluster)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	return all, nil
}

// maxRecordsHint caps the preallocation a corrupt count could ask for.
const maxRecordsHint = 10_000_000

func (f *Function) loadState(ctx context.Context) (savedState, error) {
	var s savedState
	b, err := f.opts.Store.PublishState(ctx)
	if err != nil || b == nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		// A state we cannot read is an unknown state: the publisher then
		// rediscovers the branch and PR through the API.
		f.log.Warn("reconcile: ignoring unreadable publisher state", "err", err)
		return savedState{}, nil
	}
	return s, nil
}

func (f *Function) saveState(ctx context.Context, s savedState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode publisher state: %w", err)
	}
	return f.opts.Store.SavePublishState(context.WithoutCancel(ctx), b)
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

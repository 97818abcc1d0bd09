package publish

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
)

func TestFirstRunOpensOnePROneCommit(t *testing.T) {
	e := newEnv(t, 10)
	baseHead, _ := e.repo.Branch("main")
	o := e.mustRun(registry(10, 1), desired(1))

	if o.res.Action != ActionOpened || o.res.PRNumber == 0 || o.res.PRURL == "" || o.res.Calls != o.calls-2 {
		t.Fatalf("result %+v (fake saw %d calls)", o.res, o.calls)
	}
	pr := e.onePR()
	if pr.Head != prBranch || pr.Base != "main" || pr.Title != "Update claim status" ||
		!strings.HasPrefix(pr.Body, desired(1).Body) || markerHash(pr.Body) != e.st.BodyHash ||
		!reflect.DeepEqual(pr.Labels, []string{"registry", "automated"}) {
		t.Fatalf("PR %+v", pr)
	}
	head := e.branchHead()
	c, _ := e.repo.Commit(head)
	if !reflect.DeepEqual(c.Parents, []string{baseHead}) || c.Author.Email != DefaultAuthorEmail || !strings.Contains(c.Message, commitTrailer) {
		t.Fatalf("commit %+v", c)
	}
	if got := e.repo.ChangedPaths(baseHead, head); !reflect.DeepEqual(got, []string{regPath}) {
		t.Fatalf("tree differs from base in %v", got)
	}
	if got, _ := e.repo.File(prBranch, regPath); string(got) != registry(10, 1) {
		t.Fatal("branch does not hold the desired file")
	}
	if e.st.BranchSHA != head || e.st.BaseSHA != baseHead || e.st.PRNumber != pr.Number || e.st.TreeSHA != c.Tree {
		t.Fatalf("state %+v", e.st)
	}
}

func TestTenRunsKeepOneRollingPR(t *testing.T) {
	e := newEnv(t, 50)
	first := e.mustRun(registry(50, 1), desired(1))
	number := first.res.PRNumber
	prev := e.branchHead()
	for gen := 2; gen <= 11; gen++ {
		o := e.mustRun(registry(50, gen), desired(gen))
		if o.res.Action != ActionUpdated || o.res.PRNumber != number || o.calls > 8 {
			t.Fatalf("gen %d: %+v in %d calls", gen, o.res, o.calls)
		}
		pr := e.onePR()
		head := e.branchHead()
		if pr.Number != number || head == prev || !strings.Contains(pr.Body, desired(gen).Body) {
			t.Fatalf("gen %d: PR %+v head %s", gen, pr, head)
		}
		c, _ := e.repo.Commit(head)
		base, _ := e.repo.Branch("main")
		if !reflect.DeepEqual(c.Parents, []string{base}) {
			t.Fatalf("gen %d: commit is not one commit on the base: %v", gen, c.Parents)
		}
		prev = head
	}
	if n := len(e.repo.Pulls()); n != 1 {
		t.Fatalf("%d PRs ever opened", n)
	}

	// Nothing new (a dirty generation whose statuses change nothing).
	o := e.mustRun(registry(50, 11), desired(11))
	if o.mutations != 0 || o.res.Action != ActionUnchanged || e.branchHead() != prev {
		t.Fatalf("nothing-new run: %+v, %d mutations", o.res, o.mutations)
	}
	// Clean generation: one call, and GitHub says 304.
	if ok, calls := e.check(); !ok || calls != 1 {
		t.Fatalf("check: %v in %d calls", ok, calls)
	}
}

func TestTitleOnlyChangeEditsPRWithoutMovingBranch(t *testing.T) {
	e := newEnv(t, 10)
	e.mustRun(registry(10, 1), desired(1))
	head := e.branchHead()
	d := desired(1)
	d.Title = "New title"
	o := e.mustRun(registry(10, 1), d)
	if o.res.Action != ActionUpdated || e.branchHead() != head || e.onePR().Title != "New title" ||
		e.callsTo("PATCH", "/git/refs/") != 0 || e.callsTo("POST", "/git/trees") != 1 {
		t.Fatalf("%+v", o.res)
	}
}

func TestForeignCommitIsNeverOverwritten(t *testing.T) {
	for _, tt := range []struct {
		name    string
		push    func(e *env) string // someone's commit on the PR branch
		content string              // next run's desired content
	}{
		{"update", func(e *env) string { return e.repo.SetFile(prBranch, "registry/notes.md", []byte("reviewer's fix")) }, registry(10, 2)},
		{"close", func(e *env) string { return e.repo.SetFile(prBranch, "registry/notes.md", []byte("reviewer's fix")) }, registry(10, 0)},
		{"foreign head already holds the desired file", func(e *env) string {
			return e.repo.SetFile(prBranch, regPath, []byte(registry(10, 2)))
		}, registry(10, 2)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 10)
			e.mustRun(registry(10, 1), desired(1))
			before := e.onePR()
			foreign := tt.push(e)
			stBefore := e.st

			o := e.mustRun(tt.content, desired(2))
			if o.res.Action != ActionForeignCommit || !strings.Contains(o.res.Note, githubfake.Someone.Email) || o.res.PRNumber != before.Number {
				t.Fatalf("%+v", o.res)
			}
			if e.branchHead() != foreign || e.callsTo("PATCH", "/git/refs/") != 0 || e.callsTo("DELETE", "/git/refs/") != 0 {
				t.Fatal("foreign commit was overwritten")
			}
			if after := e.onePR(); after.Body != before.Body || after.State != "open" || len(after.Comments) != 0 {
				t.Fatalf("PR touched: %+v", after)
			}
			if e.st != stBefore {
				t.Fatalf("state changed: %+v", e.st)
			}
		})
	}
}

func TestMergedPRWithForeignCommitFreesBranch(t *testing.T) {
	e := newEnv(t, 10)
	e.mustRun(registry(10, 1), desired(1))
	old := e.onePR().Number
	e.repo.SetFile(prBranch, "registry/notes.md", []byte("reviewer's fix"))
	e.repo.MergePull(old)
	o := e.mustRun(registry(10, 2), desired(2))
	if o.res.Action != ActionOpened || e.onePR().Number == old || !strings.Contains(o.res.Note, "merged") {
		t.Fatalf("%+v", o.res)
	}
}

func TestPRClosedOrBranchDeletedByAPerson(t *testing.T) {
	for _, tt := range []struct {
		name   string
		meddle func(e *env)
	}{
		{"PR closed", func(e *env) { e.repo.ClosePull(e.onePR().Number) }},
		{"branch deleted", func(e *env) { e.repo.DeleteBranch(prBranch) }}, // GitHub closes the PR too
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 10)
			e.mustRun(registry(10, 1), desired(1))
			old := e.onePR().Number
			tt.meddle(e)
			o := e.mustRun(registry(10, 2), desired(2))
			pr := e.onePR()
			if o.res.Action != ActionOpened || pr.Number == old || o.res.PRNumber != pr.Number {
				t.Fatalf("%+v", o.res)
			}
			if got, _ := e.repo.File(prBranch, regPath); string(got) != registry(10, 2) {
				t.Fatal("branch not updated")
			}
		})
	}
}

func TestLostStateRecovers(t *testing.T) {
	e := newEnv(t, 10)
	e.mustRun(registry(10, 1), desired(1))
	number := e.onePR().Number

	e.st = State{} // Redis wiped
	o := e.mustRun(registry(10, 2), desired(2))
	if o.res.Action != ActionUpdated || e.onePR().Number != number || !strings.Contains(e.onePR().Body, desired(2).Body) {
		t.Fatalf("%+v", o.res)
	}
	if got, _ := e.repo.File(prBranch, regPath); string(got) != registry(10, 2) {
		t.Fatal("branch not moved")
	}
	t.Logf("recovery run after lost state: %d calls", o.calls)

	e.st = State{}
	o = e.mustRun(registry(10, 0), desired(0)) // back to base, state unknown
	if o.res.Action != ActionClosed || len(e.repo.OpenPulls()) != 0 {
		t.Fatalf("%+v", o.res)
	}
}

func TestNonUTF8ContentGoesAsBlob(t *testing.T) {
	e := newEnv(t, 10)
	content := registry(10, 0) + "# \xff\xfe\n"
	o := e.mustRun(content, desired(1))
	if o.res.Action != ActionOpened || e.callsTo("POST", "/git/blobs") != 1 {
		t.Fatalf("%+v", o.res)
	}
	if got, _ := e.repo.File(prBranch, regPath); string(got) != content {
		t.Fatal("bytes mangled")
	}
}

func TestLabelFailureIsNotFatal(t *testing.T) {
	e := newEnv(t, 10)
	e.srv.Inject(githubfake.Fault{Kind: githubfake.ServerError, Status: 403, Method: "POST", Path: "/labels"})
	o := e.mustRun(registry(10, 1), desired(1))
	if o.res.Action != ActionOpened || !strings.Contains(o.res.Note, "labels not added") ||
		!strings.Contains(e.logs.String(), "could not label pull request") || len(e.onePR().Labels) != 0 {
		t.Fatalf("%+v", o.res)
	}
}

func TestLabelsAreRetriedWhenThePRIsEdited(t *testing.T) {
	e := newEnv(t, 10)
	e.srv.Inject(githubfake.Fault{Kind: githubfake.ServerError, Status: 403, Method: "POST", Path: "/labels", Times: 1})
	e.mustRun(registry(10, 1), desired(1))
	if got := e.onePR().Labels; len(got) != 0 {
		t.Fatalf("labels %v after the failed call", got)
	}
	// The next changed run edits the PR, sees the labels missing and adds them.
	o := e.mustRun(registry(10, 2), desired(2))
	if got := e.onePR().Labels; !reflect.DeepEqual(got, []string{"registry", "automated"}) || o.res.Action != ActionUpdated {
		t.Fatalf("after the next changed run: %+v, labels %v", o.res, got)
	}
	// Labels in place: a changed run makes no label call.
	before := e.labelCalls()
	e.mustRun(registry(10, 3), desired(3))
	if after := e.labelCalls(); after != before {
		t.Fatalf("%d label calls on a run whose PR had its labels", after-before)
	}
}

// labelCalls counts the label requests sent so far.
func (e *env) labelCalls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, p := range e.paths {
		if strings.HasSuffix(p, "/labels") {
			n++
		}
	}
	return n
}

func TestDesiredLabelsOverrideConfig(t *testing.T) {
	e := newEnv(t, 10)
	d := desired(1)
	d.Labels = []string{"custom"}
	e.mustRun(registry(10, 1), d)
	if got := e.onePR().Labels; !reflect.DeepEqual(got, []string{"custom"}) {
		t.Fatalf("labels %v", got)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	e := newEnv(t, 10)
	e.srv.Inject(githubfake.Fault{Kind: githubfake.ServerError, Method: "POST", Path: "/git/commits", Times: 2})
	e.srv.Inject(githubfake.Fault{Kind: githubfake.ConnectionReset, Method: "POST", Path: "/pulls"})
	o := e.mustRun(registry(10, 1), desired(1))
	if o.res.Action != ActionOpened || len(e.clock.Slept()) != 3 {
		t.Fatalf("%+v, slept %v", o.res, e.clock.Slept())
	}
	e.onePR()
	if e.onCall["POST git/commits 502"] != 2 || e.onCall["POST git/commits 201"] != 1 || e.onCall["POST pulls 0"] != 1 {
		t.Fatalf("OnCall saw %v", e.onCall)
	}
}

func TestRateLimitedMidRun(t *testing.T) {
	faults := []struct {
		name  string
		fault githubfake.Fault
	}{
		{"primary on trees", githubfake.Fault{Kind: githubfake.PrimaryRateLimit, Method: "POST", Path: "/git/trees", Wait: 90 * time.Second}},
		{"secondary on refs", githubfake.Fault{Kind: githubfake.SecondaryRateLimit, Method: "POST", Path: "/git/refs", Wait: 45 * time.Second}},
		{"secondary without Retry-After on pulls", githubfake.Fault{Kind: githubfake.SecondaryRateLimit, Method: "POST", Path: "/pulls"}},
		{"429 on pulls", githubfake.Fault{Kind: githubfake.TooManyRequests, Method: "POST", Path: "/pulls", Wait: 30 * time.Second}},
		{"primary 429 on labels", githubfake.Fault{Kind: githubfake.PrimaryRateLimit, Status: 429, Method: "POST", Path: "/labels", Wait: 20 * time.Second}},
	}
	for _, tt := range faults {
		t.Run(tt.name+"/waits within deadline", func(t *testing.T) {
			e := newEnv(t, 10)
			e.srv.Inject(tt.fault)
			o := e.mustRun(registry(10, 1), desired(1))
			if o.res.Action != ActionOpened || len(e.clock.Slept()) != 1 || e.srv.PendingFaults() != 0 {
				t.Fatalf("%+v slept %v", o.res, e.clock.Slept())
			}
			e.onePR()
		})
		t.Run(tt.name+"/fails fast past deadline, next run completes", func(t *testing.T) {
			e := newEnv(t, 10)
			f := tt.fault
			f.Wait = 10 * time.Minute
			e.srv.Inject(f)
			o := e.run(e.ctx(2*time.Minute), registry(10, 1), desired(1))
			if f.Path == "/labels" {
				// Labels are never fatal: the limit shows in the note only.
				if o.err != nil || o.res.Action != ActionOpened || !strings.Contains(o.res.Note, "github rate limited until") {
					t.Fatalf("%v %+v", o.err, o.res)
				}
				return
			}
			if o.err == nil || !strings.Contains(o.err.Error(), "github rate limited until") ||
				!strings.Contains(o.err.Error(), "past run deadline") || !IsRateLimited(o.err) {
				t.Fatalf("want a clear rate-limit error, got %v (%+v)", o.err, o.res)
			}
			if len(e.clock.Slept()) != 0 {
				t.Fatal("must not wait when the wait cannot succeed")
			}
			t.Logf("error: %v", o.err)
			// The next run (the limit has passed) finishes the job.
			e.clock.Sleep(context.Background(), 11*time.Minute)
			o = e.mustRun(registry(10, 1), desired(1))
			pr := e.onePR()
			if got, _ := e.repo.File(prBranch, regPath); string(got) != registry(10, 1) || pr.Number != e.st.PRNumber || !strings.Contains(pr.Body, desired(1).Body) {
				t.Fatalf("after recovery: %+v state %+v", pr, e.st)
			}
			if len(e.repo.Pulls()) != 1 {
				t.Fatalf("%d PRs", len(e.repo.Pulls()))
			}
		})
	}
}

func TestEnterpriseBaseURL(t *testing.T) {
	for _, suffix := range []string{"", "api/v3/"} {
		e := newEnv(t, 10, func(c *Config) { c.APIURL += suffix })
		e.mustRun(registry(10, 1), desired(1))
		e.mu.Lock()
		for _, p := range e.paths {
			if !strings.HasPrefix(p, "/api/v3/repos/o/r/") {
				t.Fatalf("request to %s", p)
			}
		}
		e.mu.Unlock()
	}
}

func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	e := newEnv(t, 10)
	var texts []string
	// A failing run: server errors until past the deadline.
	e.srv.Inject(githubfake.Fault{Kind: githubfake.ServerError, Times: 100})
	o := e.run(e.ctx(5*time.Second), registry(10, 1), desired(1))
	texts = append(texts, o.err.Error())
	// A rate limit past the deadline.
	e2 := newEnv(t, 10)
	e2.srv.Inject(githubfake.Fault{Kind: githubfake.PrimaryRateLimit, Wait: time.Hour})
	o = e2.run(e2.ctx(time.Minute), registry(10, 1), desired(1))
	texts = append(texts, o.err.Error(), e2.logs.String())
	// Bad credentials.
	e3 := newEnv(t, 10, func(c *Config) { c.Token = testTok + "-wrong" })
	o = e3.run(e3.ctx(time.Minute), registry(10, 1), desired(1))
	texts = append(texts, o.err.Error(), e3.logs.String(), e.logs.String())
	for _, s := range texts {
		if strings.Contains(s, testTok) {
			t.Fatalf("token leaked: %s", s)
		}
	}
	if !strings.Contains(texts[len(texts)-3], "401") {
		t.Fatalf("want a 401 error, got %s", texts[len(texts)-3])
	}
}

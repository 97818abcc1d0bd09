package publish

import (
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
)

// autoMerge runs AutoMerge on the env's state as a clean reconcile run
// does, keeping the state, and returns the result and the fake's calls.
func (e *env) autoMerge() (Result, int) {
	e.t.Helper()
	calls0 := e.srv.CallCount()
	res, st, err := e.pub.AutoMerge(e.ctx(time.Minute), e.st)
	if err != nil {
		e.t.Fatal(err)
	}
	e.st = st
	return res, e.srv.CallCount() - calls0
}

func TestAutoMergeOnlyCurrentMergeableGreen(t *testing.T) {
	e := newEnv(t, 10, func(c *Config) { c.PR.AutoMerge = MergeSquash })
	e.mustRun(registry(10, 1), desired(1))
	n, head := e.onePR().Number, e.branchHead()

	e.repo.SetChecks(head, githubfake.Check{Name: "lint", Status: "completed", Conclusion: "failure"}, githubfake.Check{Name: "test", Status: "in_progress"})
	res, calls := e.autoMerge()
	if res.Action != ActionUnchanged || !strings.Contains(res.Note, "checks not green: lint failure, test in_progress") || calls != 2 {
		t.Fatalf("failing checks: %+v after %d calls", res, calls)
	}
	e.repo.SetChecks(head, githubfake.Check{Name: "test", Status: "completed", Conclusion: "success"})
	e.repo.SetConflict(n, true)
	if res, calls = e.autoMerge(); !strings.Contains(res.Note, "conflicts with main") || calls != 1 {
		t.Fatalf("conflict: %+v after %d calls", res, calls)
	}
	e.repo.SetConflict(n, false)
	if e.callsTo("PUT", "/merge") != 0 || e.repo.Pulls()[0].Merged {
		t.Fatal("merged a PR that was not ready")
	}

	res, calls = e.autoMerge()
	pr := e.repo.Pulls()[0]
	if res.Action != ActionMerged || res.PRNumber != n || !pr.Merged || calls != 3 || res.Mutations != 2 {
		t.Fatalf("green: %+v after %d calls, PR %+v", res, calls, pr)
	}
	if _, ok := e.repo.Branch(prBranch); ok {
		t.Fatal("branch not deleted after merging")
	}
	if data, _ := e.repo.File("main", regPath); string(data) != registry(10, 1) {
		t.Fatal("main does not hold the merged file")
	}
	if ok, _ := e.check(); ok {
		t.Fatal("the next check must see the moved base")
	}
	// The next change opens a new PR.
	if o := e.mustRun(registry(10, 2), desired(2)); o.res.Action != ActionOpened || e.onePR().Number == n {
		t.Fatalf("%+v", o.res)
	}
}

func TestAutoMergeNeverMergesAMovedHead(t *testing.T) {
	e := newEnv(t, 10, func(c *Config) { c.PR.AutoMerge = MergeSquash })
	e.mustRun(registry(10, 1), desired(1))
	moved := e.repo.SetFile(prBranch, "README.md", []byte("pushed by someone"))
	res, _ := e.autoMerge()
	if res.Action != ActionUnchanged || !strings.Contains(res.Note, "not the collector's commit") || e.callsTo("PUT", "/merge") != 0 {
		t.Fatalf("%+v (head %s)", res, moved)
	}
}

// TestProtectedRepositoryBudget turns every option on: a clean run still
// makes one call, and auto-merge with an open PR at most three more.
func TestProtectedRepositoryBudget(t *testing.T) {
	e := appEnv(t, func(c *Config) {
		c.PR = PRConfig{RequireVerified: true, Reviewers: []string{"alice"}, TeamReviewers: []string{"platform"}, Assignees: []string{"bob"},
			AutoMerge: MergeRebase, TitleTemplate: "chore(registry): {{.Changed}} changed", CommitTemplate: "chore(registry): {{.Changed}}"}
	})
	e.repo.AddCollaborators("alice", "bob")
	e.repo.AddTeams("platform")
	d := desired(1)
	d.Fields = &TemplateFields{Changed: 1}
	first := e.mustRun(registry(10, 1), d)
	if ok, calls := e.check(); !ok || calls != 1 {
		t.Fatalf("clean check: %v after %d calls", ok, calls)
	}
	e.repo.SetChecks(e.branchHead(), githubfake.Check{Name: "ci", Status: "queued"})
	res, calls := e.autoMerge()
	t.Logf("first run %d calls (%d mutating); clean check 1; auto-merge blocked %d calls", first.calls, first.mutations, calls)
	if calls > 3 || res.Mutations != 0 {
		t.Fatalf("auto-merge of a blocked PR: %d calls, %d mutations", calls, res.Mutations)
	}
}

// TestAutoMergeExpectsTheHeadItRead: a push between reading the PR and
// merging it makes GitHub refuse the merge (409), which is reported.
func TestAutoMergeExpectsTheHeadItRead(t *testing.T) {
	e := newEnv(t, 10, func(c *Config) { c.PR.AutoMerge = MergeCommit })
	e.mustRun(registry(10, 1), desired(1))
	e.srv.Inject(githubfake.Fault{Kind: githubfake.Latency, Method: "PUT", Path: "/merge", Before: func() {
		e.repo.SetFile(prBranch, "README.md", []byte("pushed while merging"))
	}})
	res, _ := e.autoMerge()
	if res.Action != ActionUnchanged || !strings.Contains(res.Note, "Head branch was modified") || e.repo.Pulls()[0].Merged {
		t.Fatalf("%+v", res)
	}
}

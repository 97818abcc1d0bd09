package publish

import (
	"strings"
	"testing"
)

func TestBaseAlreadyHoldsDesiredFileClosesPR(t *testing.T) {
	e := newEnv(t, 10)
	e.mustRun(registry(10, 1), desired(1))
	number := e.onePR().Number

	// Someone applies the same change on main by hand.
	e.repo.SetFile("main", regPath, []byte(registry(10, 1)))
	if ok, _ := e.check(); ok {
		t.Fatal("check must notice the moved base")
	}
	o := e.mustRun(registry(10, 1), desired(1))
	if o.res.Action != ActionClosed || o.res.PRNumber != number {
		t.Fatalf("%+v", o.res)
	}
	pr := e.repo.Pulls()[0]
	if pr.State != "closed" || len(pr.Comments) != 1 || !strings.Contains(pr.Comments[0], "already holds") {
		t.Fatalf("PR %+v", pr)
	}
	if _, ok := e.repo.Branch(prBranch); ok {
		t.Fatal("branch not deleted")
	}
	if e.st != (State{BaseSHA: e.st.BaseSHA}) || e.st.BaseSHA == "" {
		t.Fatalf("state %+v", e.st)
	}
	// And the next run with nothing to propose makes no calls beyond ReadBase.
	o = e.mustRun(registry(10, 1), desired(1))
	if o.res.Action != ActionUnchanged || o.mutations != 0 || o.res.Calls != 0 {
		t.Fatalf("%+v %d mutations", o.res, o.mutations)
	}
}

func TestMergedPRThenNothingLeft(t *testing.T) {
	e := newEnv(t, 10)
	e.mustRun(registry(10, 1), desired(1))
	e.repo.MergePull(e.onePR().Number)
	o := e.mustRun(registry(10, 1), desired(1))
	// Merged PRs get no comment; the leftover branch is removed.
	pr := e.repo.Pulls()[0]
	if o.res.Action != ActionClosed || len(pr.Comments) != 0 || !pr.Merged || e.callsTo("PATCH", "/pulls/") != 0 {
		t.Fatalf("%+v %+v", o.res, pr)
	}
	if _, ok := e.repo.Branch(prBranch); ok {
		t.Fatal("branch left behind")
	}
	// New changes later open a fresh PR.
	o = e.mustRun(registry(10, 2), desired(2))
	if o.res.Action != ActionOpened || e.onePR().Number == pr.Number {
		t.Fatalf("%+v", o.res)
	}
}

package publish

import (
	"fmt"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
)

// TestNoRepeatedSideEffects fails the calls that must not be repeated
// (opening the PR, the closing comment) with a 502 or a dropped
// connection, once after the fake did the work and once before: the
// effect happens exactly once, a call that took effect is not sent again
// (one GET finds it), and one that did not is repeated.
func TestNoRepeatedSideEffects(t *testing.T) {
	faults := []struct {
		kind    githubfake.FaultKind
		applied bool
	}{
		{githubfake.AppliedServerError, true},
		{githubfake.AppliedConnectionReset, true},
		{githubfake.ServerError, false},
		{githubfake.ConnectionReset, false},
	}
	for _, f := range faults {
		wantPosts := 2 // the failed attempt and the repeat
		if f.applied {
			wantPosts = 1
		}
		t.Run(fmt.Sprint("open PR/", f.kind), func(t *testing.T) {
			e := newEnv(t, 10)
			e.srv.Inject(githubfake.Fault{Kind: f.kind, Method: "POST", Path: "/repos/o/r/pulls"})
			o := e.mustRun(registry(10, 1), desired(1))
			pulls := e.repo.Pulls()
			if len(pulls) != 1 || o.res.Action != ActionOpened || e.st.PRNumber != pulls[0].Number || e.st.PRURL == "" {
				t.Fatalf("result %+v, state %+v, pulls %+v", o.res, e.st, pulls)
			}
			if got := e.callsTo("POST", "/pulls"); got != wantPosts {
				t.Errorf("%d POST pulls, want %d", got, wantPosts)
			}
			if got := e.callsTo("GET", "/pulls"); got != 1 {
				t.Errorf("%d GET pulls, want 1 (the effect check)", got)
			}
			if len(pulls[0].Labels) != 2 {
				t.Errorf("labels %v: the run must go on as if the call had answered", pulls[0].Labels)
			}
		})
		t.Run(fmt.Sprint("close comment/", f.kind), func(t *testing.T) {
			e := newEnv(t, 10)
			e.mustRun(registry(10, 1), desired(1))
			e.repo.SetFile("main", regPath, []byte(registry(10, 1)))
			e.srv.Inject(githubfake.Fault{Kind: f.kind, Method: "POST", Path: "/comments"})
			o := e.mustRun(registry(10, 1), desired(1))
			pr := e.repo.Pulls()[0]
			if o.res.Action != ActionClosed || pr.State != "closed" || len(pr.Comments) != 1 {
				t.Fatalf("result %+v, PR %+v", o.res, pr)
			}
			if got := e.callsTo("POST", "/comments"); got != wantPosts {
				t.Errorf("%d POST comments, want %d", got, wantPosts)
			}
			if got := e.callsTo("GET", "/comments"); got != 1 {
				t.Errorf("%d GET comments, want 1 (the effect check)", got)
			}
		})
	}
}

// TestEffectUnknownIsNotRepeated: when the check itself fails, the call
// is not repeated and the run fails with the original error.
func TestEffectUnknownIsNotRepeated(t *testing.T) {
	e := newEnv(t, 10)
	e.mustRun(registry(10, 1), desired(1))
	e.repo.SetFile("main", regPath, []byte(registry(10, 1)))
	e.srv.Inject(githubfake.Fault{Kind: githubfake.AppliedServerError, Method: "POST", Path: "/comments"})
	e.srv.Inject(githubfake.Fault{Kind: githubfake.ServerError, Method: "GET", Path: "/comments", Status: 503})
	o := e.run(e.ctx(5*time.Minute), registry(10, 1), desired(1))
	if o.err == nil || e.callsTo("POST", "/comments") != 1 {
		t.Fatalf("err %v after %d POST comments", o.err, e.callsTo("POST", "/comments"))
	}
	if pr := e.repo.Pulls()[0]; len(pr.Comments) != 1 || pr.State != "open" {
		t.Fatalf("PR %+v", pr)
	}
	// The next run finds the comment and closes without repeating it.
	if e.st.CommentTried == 0 {
		t.Fatalf("state %+v does not remember the unclear comment", e.st)
	}
	if o := e.mustRun(registry(10, 1), desired(1)); o.res.Action != ActionClosed {
		t.Fatalf("%+v", o.res)
	}
	if pr := e.repo.Pulls()[0]; len(pr.Comments) != 1 || pr.State != "closed" {
		t.Fatalf("PR %+v", pr)
	}
}

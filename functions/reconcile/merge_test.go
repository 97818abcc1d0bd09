package reconcile

import (
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
)

// TestCleanRunAutoMerges: with REGISTRY_AUTOMERGE a clean run merges the
// open PR once its checks pass, and the PR's title is the conventional
// default; the run result reports the commit's verification.
func TestCleanRunAutoMerges(t *testing.T) {
	e := newEnv(t, 3, "REGISTRY_AUTOMERGE", "squash")
	e.put("Available", 0, 1)
	res := e.run()
	if res.Outcome != publish.ActionOpened || res.Verified == nil || *res.Verified || res.VerificationReason != "unsigned" {
		t.Fatalf("first run %+v", res)
	}
	pr := e.repo.OpenPulls()[0]
	if pr.Title != "chore(registry): update claim status (2 changed)" {
		t.Fatalf("title %q", pr.Title)
	}
	e.repo.SetChecks(pr.HeadSHA, githubfake.Check{Name: "ci", Status: "in_progress"})
	res = e.run()
	if res.Outcome != OutcomeSkipped || !strings.Contains(res.Note, "checks not green: ci in_progress") {
		t.Fatalf("pending checks: %+v", res)
	}
	e.repo.SetChecks(pr.HeadSHA, githubfake.Check{Name: "ci", Status: "completed", Conclusion: "success"})
	res = e.run()
	if res.Outcome != publish.ActionMerged || res.PRNumber != pr.Number || !e.repo.Pulls()[0].Merged {
		t.Fatalf("green: %+v", res)
	}
	// The next run sees the moved base, finds nothing to propose and
	// makes no PR.
	if res = e.run(); len(e.repo.OpenPulls()) != 0 {
		t.Fatalf("after merge: %+v", res)
	}
}

package reconcile

import (
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
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

// TestUnchangedRunAutoMerges: a run made dirty by a status that changes
// nothing in the file or the PR text (outcome "unchanged") merges a green
// PR as a clean run would; a run that updates the PR does not.
func TestUnchangedRunAutoMerges(t *testing.T) {
	e := newEnv(t, 2, "REGISTRY_AUTOMERGE", "squash")
	rec := status.Record{Cluster: "cluster-a", ClaimRef: "team/claim-0", Ready: "True", StatusMessage: "Available", Synced: "True"}
	e.putRecords(1, rec)
	if res := e.run(); res.Outcome != publish.ActionOpened {
		t.Fatalf("first run %+v", res)
	}
	pr := e.repo.OpenPulls()[0]
	e.repo.SetChecks(pr.HeadSHA, githubfake.Check{Name: "ci", Status: "completed", Conclusion: "success"})

	rec.StatusMessage = "Available again"
	e.putRecords(2, rec)
	if res := e.run(); res.Outcome != publish.ActionUpdated || len(e.repo.OpenPulls()) != 1 {
		t.Fatalf("updating run merged or did not update: %+v", res)
	}
	pr = e.repo.OpenPulls()[0]
	e.repo.SetChecks(pr.HeadSHA, githubfake.Check{Name: "ci", Status: "completed", Conclusion: "success"})

	rec.Synced = "False" // stored (a new generation), but not in the file
	e.putRecords(2, rec)
	if cur, done := e.generations(); cur <= done {
		t.Fatalf("generation %d not dirty (reconciled %d)", cur, done)
	}
	res := e.run()
	if res.Outcome != publish.ActionMerged || res.PRNumber != pr.Number || !e.repo.Pulls()[0].Merged || !res.Reconciled {
		t.Fatalf("unchanged run: %+v", res)
	}
}

package githubfake

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-github/v66/github"
)

// openPR opens a PR from branch feature (one change to f) into main.
func openPR(t *testing.T, c *github.Client, r *Repo) (*github.PullRequest, string) {
	t.Helper()
	head := r.SetFile("feature", "f", []byte("2"))
	pr, _, err := c.PullRequests.Create(context.Background(), "o", "r", &github.NewPullRequest{
		Title: github.String("T"), Head: github.String("feature"), Base: github.String("main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return pr, head
}

func TestMergeStatesAndExpectedHead(t *testing.T) {
	ctx := context.Background()
	_, r, c := newRepo(t, map[string]string{"f": "1"})
	pr, head := openPR(t, c, r)
	state := func() (bool, string) {
		t.Helper()
		got, _, err := c.PullRequests.Get(ctx, "o", "r", pr.GetNumber())
		if err != nil {
			t.Fatal(err)
		}
		return got.GetMergeable(), got.GetMergeableState()
	}
	merge := func(sha string) error {
		_, _, err := c.PullRequests.Merge(ctx, "o", "r", pr.GetNumber(), "", &github.PullRequestOptions{SHA: sha, MergeMethod: "squash"})
		return err
	}
	r.SetChecks(head, Check{Name: "lint", Status: "completed", Conclusion: "success"}, Check{Name: "test", Status: "in_progress"})
	if ok, st := state(); !ok || st != "blocked" {
		t.Fatalf("pending check: %v %s", ok, st)
	}
	apiErr(t, merge(head), http.StatusMethodNotAllowed, "Required status check")
	runs, _, err := c.Checks.ListCheckRunsForRef(ctx, "o", "r", head, nil)
	if err != nil || runs.GetTotal() != 2 || runs.CheckRuns[1].GetStatus() != "in_progress" || runs.CheckRuns[0].GetConclusion() != "success" {
		t.Fatalf("check runs %v %+v", err, runs)
	}
	r.SetChecks(head, Check{Name: "test", Status: "completed", Conclusion: "success"})
	r.SetConflict(pr.GetNumber(), true)
	if ok, st := state(); ok || st != "dirty" {
		t.Fatalf("conflict: %v %s", ok, st)
	}
	apiErr(t, merge(head), http.StatusMethodNotAllowed, "not mergeable")
	r.SetConflict(pr.GetNumber(), false)
	if ok, st := state(); !ok || st != "clean" {
		t.Fatalf("clean: %v %s", ok, st)
	}
	apiErr(t, merge("0000000000000000000000000000000000000000"), http.StatusConflict, "Head branch was modified")
	if err := merge(head); err != nil {
		t.Fatal(err)
	}
	got := r.Pulls()[0]
	main, _ := r.Branch("main")
	if !got.Merged || got.State != "closed" {
		t.Fatalf("%+v", got)
	}
	if data, _ := r.File("main", "f"); string(data) != "2" {
		t.Fatalf("main holds %q after squash (head %s)", data, main)
	}
	apiErr(t, merge(head), http.StatusMethodNotAllowed, "not mergeable")
}

func TestReviewersAndAssignees(t *testing.T) {
	ctx := context.Background()
	_, r, c := newRepo(t, map[string]string{"f": "1"})
	r.AddCollaborators("alice", "bob")
	r.AddTeams("platform")
	pr, _ := openPR(t, c, r)
	n := pr.GetNumber()
	_, _, err := c.PullRequests.RequestReviewers(ctx, "o", "r", n, github.ReviewersRequest{Reviewers: []string{"alice", "mallory"}})
	apiErr(t, err, http.StatusUnprocessableEntity, "Reviews may only be requested from collaborators")
	_, _, err = c.PullRequests.RequestReviewers(ctx, "o", "r", n, github.ReviewersRequest{Reviewers: []string{fakeUser.Name}})
	apiErr(t, err, http.StatusUnprocessableEntity, "pull request author")
	got, _, err := c.PullRequests.RequestReviewers(ctx, "o", "r", n, github.ReviewersRequest{Reviewers: []string{"alice"}, TeamReviewers: []string{"platform"}})
	if err != nil || len(got.RequestedReviewers) != 1 || got.RequestedTeams[0].GetSlug() != "platform" {
		t.Fatalf("%v %+v", err, got)
	}
	if _, _, err := c.Issues.AddAssignees(ctx, "o", "r", n, []string{"bob", "mallory"}); err != nil {
		t.Fatal(err)
	}
	p := r.Pulls()[0]
	if len(p.Reviewers) != 1 || len(p.Teams) != 1 || len(p.Assignees) != 1 || p.Assignees[0] != "bob" {
		t.Fatalf("%+v", p)
	}
}

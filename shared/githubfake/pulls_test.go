package githubfake

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-github/v66/github"
)

func TestPullsLifecycle(t *testing.T) {
	_, r, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	r.SetFile("feature", "f", []byte("2"))
	newPR := &github.NewPullRequest{Title: github.String("T"), Head: github.String("feature"), Base: github.String("main"), Body: github.String("B")}

	pr, _, err := c.PullRequests.Create(ctx, "o", "r", newPR)
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetNumber() != 1 || pr.GetState() != "open" || pr.GetHead().GetRef() != "feature" || pr.GetHTMLURL() == "" {
		t.Fatalf("created: %+v", pr)
	}
	_, _, err = c.PullRequests.Create(ctx, "o", "r", newPR)
	apiErr(t, err, http.StatusUnprocessableEntity, "A pull request already exists for o:feature.")

	for _, tt := range []struct {
		name string
		opts github.PullRequestListOptions
		want int
	}{
		{"by head", github.PullRequestListOptions{Head: "o:feature"}, 1},
		{"other head", github.PullRequestListOptions{Head: "o:nope"}, 0},
		{"other owner", github.PullRequestListOptions{Head: "x:feature"}, 0},
		{"by base", github.PullRequestListOptions{Base: "main"}, 1},
		{"closed only", github.PullRequestListOptions{State: "closed"}, 0},
	} {
		list, _, err := c.PullRequests.List(ctx, "o", "r", &tt.opts)
		if err != nil || len(list) != tt.want {
			t.Errorf("%s: %v, %d pulls, want %d", tt.name, err, len(list), tt.want)
		}
	}

	edited, _, err := c.PullRequests.Edit(ctx, "o", "r", 1, &github.PullRequest{Body: github.String("B2")})
	if err != nil || edited.GetBody() != "B2" || edited.GetTitle() != "T" {
		t.Fatalf("edit body: %v %+v", err, edited)
	}
	if _, _, err := c.Issues.CreateComment(ctx, "o", "r", 1, &github.IssueComment{Body: github.String("bye")}); err != nil {
		t.Fatal(err)
	}
	labels, _, err := c.Issues.AddLabelsToIssue(ctx, "o", "r", 1, []string{"registry", "automated"})
	if err != nil || len(labels) != 2 {
		t.Fatalf("labels: %v %v", err, labels)
	}
	closed, _, err := c.PullRequests.Edit(ctx, "o", "r", 1, &github.PullRequest{State: github.String("closed")})
	if err != nil || closed.GetState() != "closed" {
		t.Fatalf("close: %v", err)
	}
	got := r.Pulls()
	if len(got) != 1 || got[0].State != "closed" || len(got[0].Comments) != 1 || len(got[0].Labels) != 2 {
		t.Fatalf("snapshot: %+v", got)
	}
	// A closed PR no longer blocks a new one for the same head.
	if _, _, err := c.PullRequests.Create(ctx, "o", "r", newPR); err != nil {
		t.Fatalf("new PR after close: %v", err)
	}
	_, _, err = c.PullRequests.Get(ctx, "o", "r", 99)
	apiErr(t, err, http.StatusNotFound, "Not Found")
	_, _, err = c.Issues.CreateComment(ctx, "o", "r", 99, &github.IssueComment{Body: github.String("x")})
	apiErr(t, err, http.StatusNotFound, "Not Found")
}

func TestPullCreateValidation(t *testing.T) {
	_, r, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	main, _ := r.Branch("main")
	r.CreateBranch("same", main)
	for _, tt := range []struct {
		name, head, msg string
	}{
		{"missing head", "nope", ""},
		{"no diff", "same", "No commits between main and same"},
	} {
		_, _, err := c.PullRequests.Create(ctx, "o", "r", &github.NewPullRequest{
			Title: github.String("t"), Head: github.String(tt.head), Base: github.String("main"),
		})
		apiErr(t, err, http.StatusUnprocessableEntity, tt.msg)
	}
}

func TestDeletingHeadBranchClosesPullAndMergeMovesBase(t *testing.T) {
	_, r, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	r.SetFile("a", "f", []byte("a"))
	r.SetFile("b", "g", []byte("b"))
	for _, h := range []string{"a", "b"} {
		if _, _, err := c.PullRequests.Create(ctx, "o", "r", &github.NewPullRequest{
			Title: github.String(h), Head: github.String(h), Base: github.String("main"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Git.DeleteRef(ctx, "o", "r", "heads/a"); err != nil {
		t.Fatal(err)
	}
	merge := r.MergePull(2)
	if got, _ := r.File("main", "g"); string(got) != "b" {
		t.Fatalf("merge did not bring the file: %q", got)
	}
	if head, _ := r.Branch("main"); head != merge {
		t.Fatal("main not at merge commit")
	}
	pulls := r.Pulls()
	if pulls[0].State != "closed" || pulls[0].Merged || pulls[1].State != "closed" || !pulls[1].Merged {
		t.Fatalf("states: %+v", pulls)
	}
	if len(r.OpenPulls()) != 0 {
		t.Fatal("open pulls left")
	}
	_, _, err := c.PullRequests.Edit(ctx, "o", "r", 1, &github.PullRequest{State: github.String("open")})
	apiErr(t, err, http.StatusUnprocessableEntity, "branch has been deleted")
}

package githubfake

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
)

// TestAppliedFaults: the call takes effect although the client gets a
// 502 or a dropped connection.
func TestAppliedFaults(t *testing.T) {
	s, r, c := newRepo(t, map[string]string{"f": "1"})
	r.SetFile("feature", "f", []byte("2"))
	ctx := context.Background()
	s.Inject(Fault{Kind: AppliedServerError, Method: "POST", Path: "/pulls"})
	_, _, err := c.PullRequests.Create(ctx, "o", "r", &github.NewPullRequest{
		Title: github.String("T"), Head: github.String("feature"), Base: github.String("main"),
	})
	apiErr(t, err, http.StatusBadGateway, "Bad Gateway")
	if open := r.OpenPulls(); len(open) != 1 {
		t.Fatalf("%d open pulls after an applied 502, want 1", len(open))
	}
	s.Inject(Fault{Kind: AppliedConnectionReset, Method: "POST", Path: "/comments"})
	if _, _, err := c.Issues.CreateComment(ctx, "o", "r", 1, &github.IssueComment{Body: github.String("hi")}); err == nil {
		t.Fatal("dropped connection answered")
	}
	if got := r.Pulls()[0].Comments; len(got) != 1 || got[0] != "hi" {
		t.Fatalf("comments %q", got)
	}
	calls := s.Calls()
	if last := calls[len(calls)-1]; last.Fault != AppliedConnectionReset || last.Status != 0 {
		t.Fatalf("last call %+v", last)
	}
}

// TestListCommentsSinceAndPages filters by since and pages like GitHub.
func TestListCommentsSinceAndPages(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	_, r, c := newRepo(t, map[string]string{"f": "1"}, WithClock(clock))
	r.SetFile("feature", "f", []byte("2"))
	ctx := context.Background()
	if _, _, err := c.PullRequests.Create(ctx, "o", "r", &github.NewPullRequest{
		Title: github.String("T"), Head: github.String("feature"), Base: github.String("main"),
	}); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"a", "b", "c"} {
		if _, _, err := c.Issues.CreateComment(ctx, "o", "r", 1, &github.IssueComment{Body: github.String(b)}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
	}
	at := func(d time.Duration) *time.Time { t := clock().Add(d); return &t }
	for _, tt := range []struct {
		opts github.IssueListCommentsOptions
		want string
	}{
		{github.IssueListCommentsOptions{}, "abc"},
		{github.IssueListCommentsOptions{Since: &time.Time{}}, "abc"},
		{github.IssueListCommentsOptions{Since: at(-2 * time.Minute)}, "bc"},
		{github.IssueListCommentsOptions{Since: at(0)}, ""},
		{github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 2, Page: 2}}, "c"},
	} {
		list, _, err := c.Issues.ListComments(ctx, "o", "r", 1, &tt.opts)
		got := ""
		for _, cm := range list {
			got += cm.GetBody()
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v: %v %q, want %q", tt.opts, err, got, tt.want)
		}
	}
}

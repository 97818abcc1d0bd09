package publish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/go-github/v66/github"
)

// commentWindow is how far back commentOnce looks for its comment.
const commentWindow = 24 * time.Hour

// commentOnce comments msg on PR n. When an earlier run's comment on n
// failed without a clear answer (state CommentTried), it first looks for
// a comment with exactly msg made in the last commentWindow (one page of
// at most 100) and does not repeat it; a failed look-up does not stop the
// comment. Otherwise it costs the one call.
func (r *run) commentOnce(ctx context.Context, n int, msg string) error {
	cfg := r.g.cfg
	if r.st.CommentTried == n {
		since := r.g.clock.Now().Add(-commentWindow)
		list, _, err := r.c.Issues.ListComments(ctx, cfg.Owner, cfg.Repo, n, &github.IssueListCommentsOptions{
			Since: &since, ListOptions: github.ListOptions{PerPage: 100},
		})
		if err == nil && slices.ContainsFunc(list, func(c *github.IssueComment) bool { return c.GetBody() == msg }) {
			return nil
		}
	}
	_, _, err := r.c.Issues.CreateComment(ctx, cfg.Owner, cfg.Repo, n, &github.IssueComment{Body: github.String(msg)})
	if err != nil {
		var er *github.ErrorResponse
		if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode >= 500 {
			r.st.CommentTried = n // it may have taken effect
		}
		return fmt.Errorf("comment on pull request #%d: %w", n, err)
	}
	return nil
}

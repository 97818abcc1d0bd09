package publish

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v66/github"
)

// close is Publish when the base already holds the desired file: comment
// on and close the open PR, then delete the branch, unless someone else
// committed to it.
func (r *run) close(ctx context.Context) error {
	cfg := r.g.cfg
	known := r.st.Known()
	if known && r.st.PRNumber == 0 && r.st.BranchSHA == "" {
		r.st = State{BaseSHA: r.base.SHA}
		return nil // nothing open: no calls
	}
	var pr *github.PullRequest
	var err error
	switch {
	case r.st.PRNumber != 0:
		pr, _, err = r.c.PullRequests.Get(ctx, cfg.Owner, cfg.Repo, r.st.PRNumber)
		if err != nil && !isStatus(err, http.StatusNotFound) {
			return fmt.Errorf("read pull request #%d: %w", r.st.PRNumber, err)
		}
	case !known:
		if pr, err = r.findOpenPR(ctx); err != nil {
			return err
		}
	}
	open := pr != nil && pr.GetState() == "open"
	head, err := r.branchHead(ctx)
	if err != nil {
		return err
	}
	if head != "" {
		ours, _, author, err := r.attribute(ctx, head)
		if err != nil {
			return err
		}
		if !ours && !pr.GetMerged() {
			return r.foreign(head, author, nil)
		}
	}
	if open {
		n := pr.GetNumber()
		msg := fmt.Sprintf("The `%s` branch already holds the desired `%s`, so there is nothing left to propose. "+
			"Closing this pull request and deleting the `%s` branch.\n\n_machinery-status-collector_", cfg.BaseBranch, cfg.Path, cfg.Branch)
		if err := r.commentOnce(ctx, n, msg); err != nil {
			return err
		}
		if _, _, err := r.c.PullRequests.Edit(ctx, cfg.Owner, cfg.Repo, n, &github.PullRequest{State: github.String("closed")}); err != nil {
			return fmt.Errorf("close pull request #%d: %w", n, err)
		}
		r.res.PRNumber, r.res.PRURL = n, pr.GetHTMLURL()
		r.st.PRNumber, r.st.PRURL, r.st.BodyHash = 0, "", ""
	}
	if head != "" {
		_, err := r.c.Git.DeleteRef(ctx, cfg.Owner, cfg.Repo, "heads/"+cfg.Branch)
		if err != nil && !hasMessage(err, "Reference does not exist") {
			return fmt.Errorf("delete branch %s: %w", cfg.Branch, err)
		}
	}
	if open || head != "" {
		r.res.Action = ActionClosed
	}
	r.st = State{BaseSHA: r.base.SHA}
	return nil
}

package publish

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v66/github"
)

// ActionMerged: AutoMerge merged the PR and deleted its branch.
const ActionMerged = "merged"

// Merger is a publisher that can merge its own PR (REGISTRY_AUTOMERGE).
type Merger interface {
	// AutoMerge merges the open PR of st when it is current (its head is
	// the collector's last commit), mergeable and its required checks
	// pass, expecting that head so a PR that moved is never merged; then
	// it deletes the branch. Otherwise it reports in Result.Note why not
	// and changes nothing. It is for a run that found nothing to publish.
	AutoMerge(ctx context.Context, st State) (Result, State, error)
}

var _ Merger = (*GitHub)(nil)

// AutoMerge implements Merger with at most four calls: GET pull, GET
// check runs (only to name what blocks it), PUT merge, DELETE ref. It
// makes none when auto-merge is off or no PR is known.
func (g *GitHub) AutoMerge(ctx context.Context, st State) (Result, State, error) {
	ctx, counter := CountCalls(ctx)
	res, st, err := g.autoMerge(ctx, st)
	res.Calls, res.Mutations = counter.Calls(), counter.Mutations()
	if res.PRNumber == 0 {
		res.PRNumber, res.PRURL = st.PRNumber, st.PRURL
	}
	return res, st, err
}

func (g *GitHub) autoMerge(ctx context.Context, st State) (Result, State, error) {
	res := Result{Action: ActionUnchanged}
	method := g.cfg.PR.AutoMerge
	if method == "" || st.PRNumber == 0 || st.BranchSHA == "" {
		return res, st, nil
	}
	c, cfg, n := g.client(), g.cfg, st.PRNumber
	pr, _, err := c.PullRequests.Get(ctx, cfg.Owner, cfg.Repo, n)
	if err != nil {
		return res, st, fmt.Errorf("read pull request #%d: %w", n, err)
	}
	head := pr.GetHead().GetSHA()
	switch {
	case pr.GetState() != "open":
		res.Note = fmt.Sprintf("auto-merge: pull request #%d is %s", n, pr.GetState())
		return res, st, nil
	case head != st.BranchSHA:
		res.Note = fmt.Sprintf("auto-merge: pull request #%d head %s is not the collector's commit %s; not merging", n, short(head), short(st.BranchSHA))
		return res, st, nil
	}
	if why := g.blocked(ctx, c, pr); why != "" {
		res.Note = fmt.Sprintf("auto-merge: pull request #%d not merged: %s", n, why)
		return res, st, nil
	}
	_, _, err = c.PullRequests.Merge(ctx, cfg.Owner, cfg.Repo, n, "", &github.PullRequestOptions{SHA: head, MergeMethod: method})
	switch {
	case isStatus(err, http.StatusConflict), isStatus(err, http.StatusMethodNotAllowed):
		res.Note = fmt.Sprintf("auto-merge: GitHub refused to merge pull request #%d: %v", n, err)
		return res, st, nil
	case err != nil:
		return res, st, fmt.Errorf("merge pull request #%d: %w", n, err)
	}
	res.Action, res.PRNumber, res.PRURL = ActionMerged, n, st.PRURL
	res.Note = fmt.Sprintf("auto-merge: merged pull request #%d (%s)", n, method)
	// The base moved: keep the old base SHA so the next Check sees that.
	st = State{BaseSHA: st.BaseSHA}
	if _, err := c.Git.DeleteRef(ctx, cfg.Owner, cfg.Repo, "heads/"+cfg.Branch); err != nil && !hasMessage(err, "Reference does not exist") {
		return res, st, fmt.Errorf("delete branch %s after merging #%d: %w", cfg.Branch, n, err)
	}
	return res, st, nil
}

// blocked says why pr cannot be merged now, "" when it can: GitHub's
// mergeable_state "clean" means no conflict and every required check
// passed. For a blocked PR it names the checks that are not green.
func (g *GitHub) blocked(ctx context.Context, c *github.Client, pr *github.PullRequest) string {
	switch s := pr.GetMergeableState(); s {
	case "clean":
		return ""
	case "dirty":
		return "it conflicts with " + g.cfg.BaseBranch
	case "draft":
		return "it is a draft"
	case "behind":
		return g.cfg.BaseBranch + " moved; the next change rebuilds it"
	case "blocked", "unstable":
		runs, _, err := c.Checks.ListCheckRunsForRef(ctx, g.cfg.Owner, g.cfg.Repo, pr.GetHead().GetSHA(), &github.ListCheckRunsOptions{ListOptions: github.ListOptions{PerPage: 100}})
		if err != nil {
			return "checks or reviews are missing (check runs unreadable: " + err.Error() + ")"
		}
		var bad []string
		for _, r := range runs.CheckRuns {
			if r.GetStatus() != "completed" {
				bad = append(bad, r.GetName()+" "+r.GetStatus())
			} else if cc := r.GetConclusion(); cc != "success" && cc != "neutral" && cc != "skipped" {
				bad = append(bad, r.GetName()+" "+cc)
			}
		}
		if len(bad) == 0 {
			return "a required review or check is missing"
		}
		return "checks not green: " + strings.Join(bad, ", ")
	default:
		return fmt.Sprintf("GitHub has not decided whether it is mergeable (%q); trying again next run", s)
	}
}

package publish

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v66/github"
)

// requestReviews asks the configured reviewers and teams for a review and
// assigns the assignees, each only when pr lacks them, once per PR and
// setting: the request is remembered in the state whether GitHub took it
// or refused it with 422 (an unknown user or team), which is logged and
// noted once rather than every run. Any other failure is noted and tried
// again by the next run that opens or edits the PR. Like labels, none of
// this is fatal. It costs no call when nothing is configured or the
// request was made.
func (r *run) requestReviews(ctx context.Context, pr *github.PullRequest) {
	pc := r.g.cfg.PR
	if len(pc.Reviewers)+len(pc.TeamReviewers)+len(pc.Assignees) == 0 {
		return
	}
	n := pr.GetNumber()
	key := fmt.Sprintf("#%d:%s;%s;%s", n, strings.Join(pc.Reviewers, ","), strings.Join(pc.TeamReviewers, ","), strings.Join(pc.Assignees, ","))
	if r.st.Requested == key {
		return
	}
	author := pr.GetUser().GetLogin()
	users := missing(pc.Reviewers, pr.RequestedReviewers, func(u *github.User) string { return u.GetLogin() }, author)
	teams := missing(pc.TeamReviewers, pr.RequestedTeams, func(t *github.Team) string { return t.GetSlug() }, "")
	assignees := missing(pc.Assignees, pr.Assignees, func(u *github.User) string { return u.GetLogin() }, "")
	done := true
	cfg := r.g.cfg
	if len(users)+len(teams) > 0 {
		_, _, err := r.c.PullRequests.RequestReviewers(ctx, cfg.Owner, cfg.Repo, n, github.ReviewersRequest{Reviewers: users, TeamReviewers: teams})
		done = r.sideCall(err, "review request", n, append(users, teams...)) && done
	}
	if len(assignees) > 0 {
		_, _, err := r.c.Issues.AddAssignees(ctx, cfg.Owner, cfg.Repo, n, assignees)
		done = r.sideCall(err, "assignees", n, assignees) && done
	}
	if done {
		r.st.Requested = key
	}
}

// sideCall reports a non-fatal call's failure and whether it is settled:
// true on success and on 422 (GitHub will refuse it again), false when
// it is worth trying again.
func (r *run) sideCall(err error, what string, n int, names []string) bool {
	if err == nil {
		return true
	}
	r.g.log.Warn("could not set "+what+" on pull request", "pr", n, "names", names, "error", err.Error())
	r.note("%s %v not set: %v", what, names, err)
	return isStatus(err, http.StatusUnprocessableEntity)
}

// missing lists the wanted names that have lacks, never self (GitHub
// refuses a review request to the PR's author).
func missing[T any](wanted []string, have []T, name func(T) string, self string) []string {
	var out []string
	for _, w := range wanted {
		if w == self || slices.ContainsFunc(have, func(h T) bool { return strings.EqualFold(name(h), w) }) {
			continue
		}
		out = append(out, w)
	}
	return out
}

package githubfake

import (
	"net/http"
	"slices"
)

// AddCollaborators lets these logins be asked for reviews and assigned.
func (r *Repo) AddCollaborators(logins ...string) {
	r.with(func(rp *repoState) {
		for _, l := range logins {
			rp.collaborators[l] = true
		}
	})
}

// AddTeams lets these team slugs be asked for reviews.
func (r *Repo) AddTeams(slugs ...string) {
	r.with(func(rp *repoState) {
		for _, t := range slugs {
			rp.teams[t] = true
		}
	})
}

func logins(names []string) []map[string]any {
	out := []map[string]any{}
	for _, n := range names {
		out = append(out, map[string]any{"login": n, "type": "User"})
	}
	return out
}

func slugs(names []string) []map[string]any {
	out := []map[string]any{}
	for _, n := range names {
		out = append(out, map[string]any{"slug": n, "name": n})
	}
	return out
}

// requestReviewers asks users and teams for a review. Like GitHub it
// refuses the whole request with 422 when one of them is not a
// collaborator (or team) of the repository, or is the PR's author.
func (s *Server) requestReviewers(w http.ResponseWriter, r *http.Request, rp *repoState, p *pullState) {
	var req struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	for _, u := range req.Reviewers {
		if u == fakeUser.Name {
			unprocessable(w, "Review cannot be requested from pull request author.")
			return
		}
		if !rp.collaborators[u] {
			unprocessable(w, "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the "+rp.owner+"/"+rp.name+" repository.")
			return
		}
	}
	for _, t := range req.TeamReviewers {
		if !rp.teams[t] {
			unprocessable(w, "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the "+rp.owner+"/"+rp.name+" repository.")
			return
		}
	}
	p.Reviewers = addAll(p.Reviewers, req.Reviewers)
	p.Teams = addAll(p.Teams, req.TeamReviewers)
	writeJSON(w, http.StatusCreated, s.pullJSON(rp, p))
}

// addAssignees assigns collaborators; like GitHub it ignores the others
// silently and answers with the issue.
func (s *Server) addAssignees(w http.ResponseWriter, r *http.Request, rp *repoState, p *pullState) {
	var req struct {
		Assignees []string `json:"assignees"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	var ok []string
	for _, a := range req.Assignees {
		if rp.collaborators[a] {
			ok = append(ok, a)
		}
	}
	p.Assignees = addAll(p.Assignees, ok)
	writeJSON(w, http.StatusCreated, s.pullJSON(rp, p))
}

// addAll appends the names set lacks.
func addAll(set, names []string) []string {
	for _, n := range names {
		if !slices.Contains(set, n) {
			set = append(set, n)
		}
	}
	return set
}

// SubmitReview records that login reviewed the pull request: like GitHub,
// it leaves the list of requested reviewers.
func (r *Repo) SubmitReview(number int, login string) {
	r.with(func(rp *repoState) {
		if p := rp.pulls[number]; p != nil {
			p.Reviewers = slices.DeleteFunc(p.Reviewers, func(l string) bool { return l == login })
		}
	})
}

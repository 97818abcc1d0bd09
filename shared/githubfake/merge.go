package githubfake

import (
	"net/http"
	"strconv"
)

// Check is one check run on a commit, as CI reports it. Every check is
// treated as required by branch protection.
type Check struct {
	Name       string
	Status     string // "queued", "in_progress" or "completed"
	Conclusion string // when completed: "success", "failure", "neutral", "skipped", ...
}

// green reports whether a completed check lets a merge through.
func (c Check) green() bool {
	return c.Status == "completed" && (c.Conclusion == "success" || c.Conclusion == "neutral" || c.Conclusion == "skipped")
}

// SetChecks replaces the check runs of a commit.
func (r *Repo) SetChecks(sha string, checks ...Check) {
	r.with(func(rp *repoState) { rp.checks[sha] = append([]Check(nil), checks...) })
}

// SetConflict marks a pull request as conflicting with its base (or not).
func (r *Repo) SetConflict(number int, conflict bool) {
	r.with(func(rp *repoState) {
		if p := rp.pulls[number]; p != nil {
			p.conflict = conflict
		}
	})
}

// mergeable is GitHub's "mergeable": no conflict with the base, which
// the fake also assumes when the base head is not in the PR's history.
func (s *Server) mergeable(rp *repoState, p *pullState) bool {
	head := p.headSHA(rp)
	return p.State == "open" && !p.conflict && rp.isAncestor(rp.branches[p.Base], head)
}

// mergeableState is GitHub's "mergeable_state" for an open PR: "draft",
// "dirty" (conflicts), "blocked" (a required check not green), or
// "clean".
func (s *Server) mergeableState(rp *repoState, p *pullState) string {
	switch {
	case p.State != "open":
		return "unknown"
	case p.Draft:
		return "draft"
	case !s.mergeable(rp, p):
		return "dirty"
	}
	for _, c := range rp.checks[p.headSHA(rp)] {
		if !c.green() {
			return "blocked"
		}
	}
	return "clean"
}

// listCheckRuns serves the check runs of a commit.
func (s *Server) listCheckRuns(w http.ResponseWriter, r *http.Request, rp *repoState) {
	runs := []map[string]any{}
	for i, c := range rp.checks[r.PathValue("sha")] {
		var conclusion any
		if c.Status == "completed" {
			conclusion = c.Conclusion
		}
		runs = append(runs, map[string]any{"id": i + 1, "name": c.Name, "status": c.Status, "conclusion": conclusion, "head_sha": r.PathValue("sha")})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": runs})
}

// mergePull merges like PUT pulls/{number}/merge: only an open, clean
// PR, and only when its head is the "sha" the caller expects (409
// otherwise). "squash" and "rebase" put one commit with the head's tree
// on the base; "merge" adds a merge commit.
func (s *Server) mergePull(w http.ResponseWriter, r *http.Request, rp *repoState, p *pullState) {
	var req struct {
		SHA         string `json:"sha"`
		MergeMethod string `json:"merge_method"`
		CommitTitle string `json:"commit_title"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	head := p.headSHA(rp)
	switch {
	case p.State != "open" || s.mergeableState(rp, p) == "dirty" || p.Draft:
		writeError(w, http.StatusMethodNotAllowed, "Pull Request is not mergeable", docsURL)
		return
	case req.SHA != "" && req.SHA != head:
		writeError(w, http.StatusConflict, "Head branch was modified. Review and try the merge again.", docsURL)
		return
	case s.mergeableState(rp, p) != "clean":
		writeError(w, http.StatusMethodNotAllowed, "Required status check is expected or failing.", docsURL)
		return
	}
	title := req.CommitTitle
	if title == "" {
		title = p.Title + " (#" + strconv.Itoa(p.Number) + ")"
	}
	parents := []string{rp.branches[p.Base]}
	switch req.MergeMethod {
	case "", "merge":
		parents = append(parents, head)
		title = "Merge pull request #" + strconv.Itoa(p.Number) + " from " + rp.owner + "/" + p.Head
	case "squash", "rebase":
	default:
		validationFailed(w, fieldError{Resource: "PullRequest", Field: "merge_method", Code: "invalid"})
		return
	}
	sha := rp.putCommit(s.someoneCommit(rp.commits[head].Tree, parents, title))
	rp.branches[p.Base] = sha
	p.close(s.now(), head)
	p.Merged, p.MergeSHA = true, sha
	writeJSON(w, http.StatusOK, map[string]any{"sha": sha, "merged": true, "message": "Pull Request successfully merged"})
}

package githubfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// pullState is a stored pull request (which is also an issue: comments
// and labels hang off its number).
type pullState struct {
	ID      int64
	Number  int
	Title   string
	Body    string
	State   string // "open" or "closed"
	Head    string // branch in the same repository
	Base    string
	HeadSHA string // frozen when closed; open PRs follow their branch
	Merged  bool
	Draft   bool
	Labels  []string
	// Reviewers, Teams and Assignees as requested/assigned.
	Reviewers, Teams, Assignees []string
	MergeSHA                    string // the merge commit once merged
	conflict                    bool   // set by SetConflict
	Comments                    []comment
	CreatedAt                   time.Time
	UpdatedAt                   time.Time
	ClosedAt                    time.Time
}

// comment is an issue comment.
type comment struct {
	ID        int64
	Body      string
	CreatedAt time.Time
}

func (p *pullState) close(now time.Time, head string) {
	p.State, p.ClosedAt, p.UpdatedAt, p.HeadSHA = "closed", now, now, head
}

// headSHA is the commit the PR shows: its branch's head while open.
func (p *pullState) headSHA(rp *repoState) string {
	if sha, ok := rp.branches[p.Head]; ok && p.State == "open" {
		return sha
	}
	return p.HeadSHA
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// pullJSON renders a pull request as the pulls endpoints do.
func (s *Server) pullJSON(rp *repoState, p *pullState) map[string]any {
	labels := []map[string]any{}
	for _, l := range p.Labels {
		labels = append(labels, map[string]any{"name": l})
	}
	repoJSON := map[string]any{"name": rp.name, "full_name": rp.owner + "/" + rp.name, "owner": map[string]any{"login": rp.owner}}
	branch := func(ref, sha string) map[string]any {
		return map[string]any{"label": rp.owner + ":" + ref, "ref": ref, "sha": sha, "repo": repoJSON}
	}
	var mergedAt any
	if p.Merged {
		mergedAt = timeOrNil(p.ClosedAt)
	}
	return map[string]any{
		"id": p.ID, "node_id": "PR_" + strconv.FormatInt(p.ID, 10), "number": p.Number,
		"state": p.State, "title": p.Title, "body": p.Body, "draft": p.Draft,
		"url":      s.apiURL(rp, "pulls/%d", p.Number),
		"html_url": s.htmlURL(rp, "pull/%d", p.Number),
		"user":     map[string]any{"login": fakeUser.Name},
		"head":     branch(p.Head, p.headSHA(rp)),
		"base":     branch(p.Base, rp.branches[p.Base]),
		"merged":   p.Merged, "merged_at": mergedAt, "closed_at": timeOrNil(p.ClosedAt),
		"created_at": timeOrNil(p.CreatedAt), "updated_at": timeOrNil(p.UpdatedAt),
		"labels":              labels,
		"requested_reviewers": logins(p.Reviewers), "requested_teams": slugs(p.Teams), "assignees": logins(p.Assignees),
		"mergeable": s.mergeable(rp, p), "mergeable_state": s.mergeableState(rp, p), "merge_commit_sha": p.MergeSHA,
	}
}

// inPull adapts a handler of one pull request (or its issue), found by
// the {number} path value; an unknown number is GitHub's 404.
func (s *Server) inPull(fn func(http.ResponseWriter, *http.Request, *repoState, *pullState)) func(http.ResponseWriter, *http.Request, *repoState) {
	return func(w http.ResponseWriter, r *http.Request, rp *repoState) {
		n, err := strconv.Atoi(r.PathValue("number"))
		if p := rp.pulls[n]; err == nil && p != nil {
			fn(w, r, rp, p)
			return
		}
		notFound(w)
	}
}

// sortedPulls lists pull requests newest first, GitHub's default order.
func sortedPulls(rp *repoState) []*pullState {
	out := make([]*pullState, 0, len(rp.pulls))
	for _, p := range rp.pulls {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number > out[j].Number })
	return out
}

// headBranch accepts "owner:branch" for this repository's owner, or a
// bare branch name.
func headBranch(rp *repoState, head string) (string, bool) {
	owner, b, found := strings.Cut(head, ":")
	if !found {
		return head, true
	}
	return b, owner == rp.owner
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, rp *repoState) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 || perPage > 100 {
		perPage = 30
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	var head string
	headOK := true
	if h := q.Get("head"); h != "" {
		head, headOK = headBranch(rp, h)
	}
	out := []map[string]any{}
	skip := (page - 1) * perPage
	for _, p := range sortedPulls(rp) {
		match := headOK && (state == "all" || p.State == state) &&
			(head == "" || p.Head == head) && (q.Get("base") == "" || p.Base == q.Get("base"))
		if !match {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(out) < perPage {
			out = append(out, s.pullJSON(rp, p))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request, rp *repoState, p *pullState) {
	writeJSON(w, http.StatusOK, s.pullJSON(rp, p))
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request, rp *repoState) {
	var req struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
		Draft bool   `json:"draft"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	head, ok := headBranch(rp, req.Head)
	headSHA, exists := rp.branches[head]
	switch {
	case req.Title == "":
		validationFailed(w, fieldError{Resource: "PullRequest", Field: "title", Code: "missing_field"})
		return
	case !ok || !exists:
		validationFailed(w, fieldError{Resource: "PullRequest", Field: "head", Code: "invalid"})
		return
	}
	baseSHA, exists := rp.branches[req.Base]
	if !exists {
		validationFailed(w, fieldError{Resource: "PullRequest", Field: "base", Code: "invalid"})
		return
	}
	for _, p := range rp.pulls {
		if p.State == "open" && p.Head == head && p.Base == req.Base {
			validationFailed(w, fieldError{Resource: "PullRequest", Code: "custom",
				Message: "A pull request already exists for " + rp.owner + ":" + head + "."})
			return
		}
	}
	if rp.isAncestor(headSHA, baseSHA) {
		validationFailed(w, fieldError{Resource: "PullRequest", Code: "custom",
			Message: "No commits between " + req.Base + " and " + head})
		return
	}
	rp.nextNumber++
	now := s.now()
	p := &pullState{
		ID: s.newID(), Number: rp.nextNumber, Title: req.Title, Body: req.Body, State: "open",
		Head: head, Base: req.Base, CreatedAt: now, UpdatedAt: now, Draft: req.Draft,
	}
	rp.pulls[p.Number] = p
	writeJSON(w, http.StatusCreated, s.pullJSON(rp, p))
}

func (s *Server) editPull(w http.ResponseWriter, r *http.Request, rp *repoState, p *pullState) {
	var req struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
		Base  *string `json:"base"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	now := s.now()
	if req.State != nil && *req.State != p.State {
		switch *req.State {
		case "closed":
			p.close(now, p.headSHA(rp))
		case "open":
			if _, ok := rp.branches[p.Head]; !ok || p.Merged {
				validationFailed(w, fieldError{Resource: "PullRequest", Field: "state", Code: "invalid",
					Message: "state cannot be changed. The " + p.Head + " branch has been deleted."})
				return
			}
			p.State, p.ClosedAt, p.HeadSHA = "open", time.Time{}, ""
		default:
			validationFailed(w, fieldError{Resource: "PullRequest", Field: "state", Code: "invalid"})
			return
		}
	}
	if req.Title != nil {
		p.Title = *req.Title
	}
	if req.Body != nil {
		p.Body = *req.Body
	}
	if req.Base != nil {
		if _, ok := rp.branches[*req.Base]; !ok {
			validationFailed(w, fieldError{Resource: "PullRequest", Field: "base", Code: "invalid"})
			return
		}
		p.Base = *req.Base
	}
	p.UpdatedAt = now
	writeJSON(w, http.StatusOK, s.pullJSON(rp, p))
}

func (s *Server) commentJSON(rp *repoState, n int, c comment) map[string]any {
	return map[string]any{
		"id": c.ID, "node_id": "IC_" + strconv.FormatInt(c.ID, 10), "body": c.Body,
		"html_url":   s.htmlURL(rp, "pull/%d#issuecomment-%d", n, c.ID),
		"user":       map[string]any{"login": fakeUser.Name},
		"created_at": timeOrNil(c.CreatedAt), "updated_at": timeOrNil(c.CreatedAt),
	}
}

// listComments lists an issue's comments oldest first, paged with
// per_page (default 30, at most 100) and page, and filtered by since
// (comments updated at or after an RFC 3339 time) as GitHub does.
func (s *Server) listComments(w http.ResponseWriter, r *http.Request, rp *repoState, p *pullState) {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			validationFailed(w, fieldError{Resource: "IssueComment", Field: "since", Code: "invalid"})
			return
		}
		since = t
	}
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	if perPage <= 0 || perPage > 100 {
		perPage = 30
	}
	page, _ := strconv.Atoi(q.Get("page"))
	skip := (max(page, 1) - 1) * perPage
	out := []map[string]any{}
	for _, c := range p.Comments {
		if c.CreatedAt.Before(since) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(out) < perPage {
			out = append(out, s.commentJSON(rp, p.Number, c))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request, rp *repoState, p *pullState) {
	var req struct {
		Body string `json:"body"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Body == "" {
		validationFailed(w, fieldError{Resource: "IssueComment", Field: "body", Code: "missing_field"})
		return
	}
	c := comment{ID: s.newID(), Body: req.Body, CreatedAt: s.now()}
	p.Comments = append(p.Comments, c)
	writeJSON(w, http.StatusCreated, s.commentJSON(rp, p.Number, c))
}

// addLabels takes a JSON array or {"labels": [...]}, adds the labels
// (GitHub creates unknown ones) and returns every label on the issue.
func (s *Server) addLabels(w http.ResponseWriter, r *http.Request, rp *repoState, p *pullState) {
	var raw json.RawMessage
	if !decodeBody(w, r, &raw) {
		return
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		var obj struct {
			Labels []string `json:"labels"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsURL)
			return
		}
		names = obj.Labels
	}
	for _, n := range names {
		if n == "" {
			validationFailed(w, fieldError{Resource: "Label", Field: "name", Code: "missing_field"})
			return
		}
		if !slices.Contains(p.Labels, n) {
			p.Labels = append(p.Labels, n)
		}
	}
	out := []map[string]any{}
	for i, n := range p.Labels {
		out = append(out, map[string]any{"id": i + 1, "name": n, "color": "ededed", "default": false})
	}
	writeJSON(w, http.StatusOK, out)
}

// PullRequest is a snapshot of a stored pull request.
type PullRequest struct {
	Number   int
	Title    string
	Body     string
	State    string
	Head     string
	Base     string
	HeadSHA  string
	Merged   bool
	Draft    bool
	Labels   []string
	Comments []string
	// Reviewers, Teams and Assignees as requested/assigned.
	Reviewers, Teams, Assignees []string
}

func snapshotPull(rp *repoState, p *pullState) PullRequest {
	pr := PullRequest{
		Number: p.Number, Title: p.Title, Body: p.Body, State: p.State, Head: p.Head, Base: p.Base,
		HeadSHA: p.headSHA(rp), Merged: p.Merged, Labels: append([]string(nil), p.Labels...), Draft: p.Draft,
		Reviewers: slices.Clone(p.Reviewers), Teams: slices.Clone(p.Teams), Assignees: slices.Clone(p.Assignees),
	}
	for _, c := range p.Comments {
		pr.Comments = append(pr.Comments, c.Body)
	}
	return pr
}

// Pulls returns every pull request, open and closed, by number.
func (r *Repo) Pulls() []PullRequest {
	var out []PullRequest
	r.with(func(rp *repoState) {
		for _, p := range sortedPulls(rp) {
			out = append(out, snapshotPull(rp, p))
		}
	})
	slices.Reverse(out)
	return out
}

// OpenPulls returns the open pull requests, by number.
func (r *Repo) OpenPulls() []PullRequest {
	var out []PullRequest
	for _, p := range r.Pulls() {
		if p.State == "open" {
			out = append(out, p)
		}
	}
	return out
}

// ClosePull closes a pull request as a person would.
func (r *Repo) ClosePull(number int) {
	r.with(func(rp *repoState) {
		if p := rp.pulls[number]; p != nil && p.State == "open" {
			p.close(r.s.now(), p.headSHA(rp))
		}
	})
}

// MergePull merges an open pull request with a merge commit on its base
// (tree of the head, parents base and head) and returns the merge commit.
// It models the common case where the head is based on the base head.
func (r *Repo) MergePull(number int) string {
	var sha string
	r.with(func(rp *repoState) {
		p := rp.pulls[number]
		if p == nil || p.State != "open" {
			panic("githubfake: MergePull of a pull request that is not open")
		}
		head := p.headSHA(rp)
		c := r.s.someoneCommit(rp.commits[head].Tree, []string{rp.branches[p.Base], head},
			"Merge pull request #"+strconv.Itoa(p.Number)+" from "+rp.owner+"/"+p.Head)
		sha = rp.putCommit(c)
		rp.branches[p.Base] = sha
		p.close(r.s.now(), head)
		p.Merged, p.MergeSHA = true, sha
	})
	return sha
}

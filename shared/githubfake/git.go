package githubfake

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
)

// maxInlineContent is the size above which GET contents leaves the content
// out (encoding "none"), as GitHub does for files over 1 MB.
const maxInlineContent = 1 << 20

// routes registers every endpoint. Unknown routes answer GitHub's JSON 404.
func (s *Server) routes() {
	const repo = "/repos/{owner}/{repo}/"
	h := map[string]func(http.ResponseWriter, *http.Request, *repoState){
		"GET " + repo + "contents/{path...}":                  s.getContents,
		"GET " + repo + "git/blobs/{sha}":                     s.getBlob,
		"POST " + repo + "git/blobs":                          s.createBlob,
		"GET " + repo + "git/trees/{sha...}":                  s.getTree,
		"POST " + repo + "git/trees":                          s.createTree,
		"GET " + repo + "git/commits/{sha}":                   s.getGitCommit,
		"POST " + repo + "git/commits":                        s.createCommit,
		"GET " + repo + "commits/{ref...}":                    s.getRepoCommit,
		"GET " + repo + "git/ref/{ref...}":                    s.getRef,
		"POST " + repo + "git/refs":                           s.createRef,
		"PATCH " + repo + "git/refs/{ref...}":                 s.updateRef,
		"DELETE " + repo + "git/refs/{ref...}":                s.deleteRef,
		"GET " + repo + "pulls":                               s.listPulls,
		"POST " + repo + "pulls":                              s.createPull,
		"GET " + repo + "pulls/{number}":                      s.inPull(s.getPull),
		"PATCH " + repo + "pulls/{number}":                    s.inPull(s.editPull),
		"GET " + repo + "issues/{number}/comments":            s.inPull(s.listComments),
		"POST " + repo + "issues/{number}/comments":           s.inPull(s.createComment),
		"POST " + repo + "issues/{number}/labels":             s.inPull(s.addLabels),
		"POST " + repo + "pulls/{number}/requested_reviewers": s.inPull(s.requestReviewers),
		"POST " + repo + "issues/{number}/assignees":          s.inPull(s.addAssignees),
		"PUT " + repo + "pulls/{number}/merge":                s.inPull(s.mergePull),
		"GET " + repo + "commits/{sha}/check-runs":            s.listCheckRuns,
	}
	for pattern, fn := range h {
		s.mux.HandleFunc(pattern, s.inRepo(fn))
	}
	s.mux.HandleFunc("POST /app/installations/{id}/access_tokens", s.createInstallationToken)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { notFound(w) })
}

// inRepo runs a handler under the lock with its repository, or 404s.
func (s *Server) inRepo(fn func(http.ResponseWriter, *http.Request, *repoState)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		rp := s.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
		if rp == nil {
			notFound(w)
			return
		}
		fn(w, r, rp)
	}
}

// apiURL builds the API URL of a repository resource, for "url" fields.
func (s *Server) apiURL(rp *repoState, format string, args ...any) string {
	return fmt.Sprintf("%s%s/repos/%s/%s/", s.srv.URL, enterprisePrefix, rp.owner, rp.name) + fmt.Sprintf(format, args...)
}

// htmlURL builds the web URL of a repository page.
func (s *Server) htmlURL(rp *repoState, format string, args ...any) string {
	return fmt.Sprintf("%s/%s/%s/", s.srv.URL, rp.owner, rp.name) + fmt.Sprintf(format, args...)
}

// base64Lines encodes like GitHub: standard base64 wrapped at 60 columns.
func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	b.WriteString(enc)
	if enc != "" {
		b.WriteString("\n")
	}
	return b.String()
}

func (s *Server) getContents(w http.ResponseWriter, r *http.Request, rp *repoState) {
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		ref = rp.defaultBranch
	}
	commit, ok := rp.resolveCommit(ref)
	if !ok {
		writeError(w, http.StatusNotFound, "No commit found for the ref "+ref, docsURL)
		return
	}
	p := strings.Trim(r.PathValue("path"), "/")
	entry := treeEntry{Mode: modeTree, SHA: rp.commits[commit].Tree}
	if p != "" {
		if entry, ok = rp.lookup(entry.SHA, p); !ok {
			notFound(w)
			return
		}
	}
	if entry.Mode == modeTree {
		var list []map[string]any
		for _, e := range rp.trees[entry.SHA] {
			list = append(list, s.contentJSON(rp, strings.TrimPrefix(p+"/"+e.Name, "/"), e, false))
		}
		writeJSON(w, http.StatusOK, list)
		return
	}
	if wants(r, "raw") {
		w.Header().Set("Content-Type", "application/vnd.github.raw")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(rp.blobs[entry.SHA])
		return
	}
	writeJSON(w, http.StatusOK, s.contentJSON(rp, p, entry, true))
}

// contentJSON is a contents-API item; the content itself only for a
// single file of at most 1 MB, as on GitHub.
func (s *Server) contentJSON(rp *repoState, p string, e treeEntry, withContent bool) map[string]any {
	typ := "file"
	size := len(rp.blobs[e.SHA])
	switch e.kind() {
	case "tree":
		typ, size = "dir", 0
	case "commit":
		typ, size = "submodule", 0
	}
	m := map[string]any{
		"type": typ, "name": path.Base(p), "path": p, "sha": e.SHA, "size": size,
		"url":      s.apiURL(rp, "contents/%s", p),
		"git_url":  s.apiURL(rp, "git/%ss/%s", e.kind(), e.SHA),
		"html_url": s.htmlURL(rp, "blob/%s/%s", rp.defaultBranch, p),
	}
	if withContent && typ == "file" {
		if size > maxInlineContent {
			m["content"], m["encoding"] = "", "none"
		} else {
			m["content"], m["encoding"] = base64Lines(rp.blobs[e.SHA]), "base64"
		}
	}
	return m
}

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, rp *repoState) {
	sha := r.PathValue("sha")
	data, ok := rp.blobs[sha]
	if !ok {
		notFound(w)
		return
	}
	if wants(r, "raw") {
		w.Header().Set("Content-Type", "application/vnd.github.raw")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sha": sha, "node_id": "B_" + sha, "size": len(data), "url": s.apiURL(rp, "git/blobs/%s", sha),
		"content": base64Lines(data), "encoding": "base64",
	})
}

func (s *Server) createBlob(w http.ResponseWriter, r *http.Request, rp *repoState) {
	var req struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Content == nil {
		unprocessable(w, "Invalid request.\n\n\"content\" wasn't supplied.")
		return
	}
	data := []byte(*req.Content)
	switch req.Encoding {
	case "", "utf-8":
	case "base64":
		dec, err := base64.StdEncoding.DecodeString(*req.Content)
		if err != nil {
			unprocessable(w, "Invalid request.\n\nContent is not valid Base64.")
			return
		}
		data = dec
	default:
		unprocessable(w, "Invalid request.\n\nencoding must be utf-8 or base64.")
		return
	}
	sha := rp.putBlob(data)
	writeJSON(w, http.StatusCreated, map[string]any{"sha": sha, "url": s.apiURL(rp, "git/blobs/%s", sha)})
}

func (s *Server) getTree(w http.ResponseWriter, r *http.Request, rp *repoState) {
	sha := r.PathValue("sha")
	if _, ok := rp.trees[sha]; !ok {
		c, found := rp.resolveCommit(sha)
		if !found {
			notFound(w)
			return
		}
		sha = rp.commits[c].Tree
	}
	rec := r.URL.Query().Get("recursive")
	recursive := rec != "" && rec != "0" && rec != "false"
	writeJSON(w, http.StatusOK, s.treeJSON(rp, sha, recursive))
}

// treeJSON renders a tree like GET/POST git/trees.
func (s *Server) treeJSON(rp *repoState, sha string, recursive bool) map[string]any {
	entries := []map[string]any{}
	add := func(p string, e treeEntry) {
		m := map[string]any{
			"path": p, "mode": e.Mode, "type": e.kind(), "sha": e.SHA,
			"url": s.apiURL(rp, "git/%ss/%s", e.kind(), e.SHA),
		}
		if e.kind() == "blob" {
			m["size"] = len(rp.blobs[e.SHA])
		}
		entries = append(entries, m)
	}
	if recursive {
		rp.walk(sha, "", add)
	} else {
		for _, e := range rp.trees[sha] {
			add(e.Name, e)
		}
	}
	return map[string]any{"sha": sha, "url": s.apiURL(rp, "git/trees/%s", sha), "tree": entries, "truncated": false}
}

// validTreePath rejects what GitHub calls a malformed path component.
func validTreePath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." || part == ".git" {
			return false
		}
	}
	return true
}

func (s *Server) createTree(w http.ResponseWriter, r *http.Request, rp *repoState) {
	var req struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path    string          `json:"path"`
			Mode    string          `json:"mode"`
			Type    string          `json:"type"`
			SHA     json.RawMessage `json:"sha"`
			Content *string         `json:"content"`
		} `json:"tree"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.BaseTree != "" {
		if _, ok := rp.trees[req.BaseTree]; !ok {
			unprocessable(w, "base_tree is not a valid tree oid")
			return
		}
	}
	edits := make([]treeEdit, 0, len(req.Tree))
	for _, e := range req.Tree {
		var sha *string
		if len(e.SHA) > 0 && string(e.SHA) != "null" {
			if err := json.Unmarshal(e.SHA, &sha); err != nil {
				writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsURL)
				return
			}
		}
		switch {
		case !validTreePath(e.Path):
			unprocessable(w, "tree.path contains a malformed path component")
			return
		case !validMode(e.Mode):
			unprocessable(w, fmt.Sprintf("Invalid tree.mode %q for %s", e.Mode, e.Path))
			return
		case e.Type != "" && e.Type != typeForMode(e.Mode):
			unprocessable(w, fmt.Sprintf("tree.type %q does not match tree.mode %s for %s", e.Type, e.Mode, e.Path))
			return
		case sha != nil && e.Content != nil:
			unprocessable(w, "Must supply either tree.sha or tree.content. Request will be rejected if both are present.")
			return
		case e.Content != nil:
			if e.Mode == modeTree || e.Mode == modeCommit {
				unprocessable(w, "tree.content is only valid for blobs: "+e.Path)
				return
			}
			edits = append(edits, treeEdit{Path: e.Path, Mode: e.Mode, SHA: rp.putBlob([]byte(*e.Content))})
		case sha == nil:
			if string(e.SHA) != "null" {
				unprocessable(w, "Must supply either tree.sha or tree.content: "+e.Path)
				return
			}
			edits = append(edits, treeEdit{Path: e.Path, Delete: true})
		default:
			if !rp.hasObject(*sha, typeForMode(e.Mode)) {
				unprocessable(w, fmt.Sprintf("tree.sha %s is not a valid %s", *sha, typeForMode(e.Mode)))
				return
			}
			edits = append(edits, treeEdit{Path: e.Path, Mode: e.Mode, SHA: *sha})
		}
	}
	sha := rp.applyTree(req.BaseTree, edits)
	writeJSON(w, http.StatusCreated, s.treeJSON(rp, sha, false))
}

// hasObject checks a tree entry's target; submodule commits live in other
// repositories, so any SHA-shaped value is accepted for them.
func (rp *repoState) hasObject(sha, kind string) bool {
	switch kind {
	case "blob":
		_, ok := rp.blobs[sha]
		return ok
	case "tree":
		_, ok := rp.trees[sha]
		return ok
	}
	return isSHA(sha)
}

// commitJSON renders a git commit like GET/POST git/commits.
func (s *Server) commitJSON(rp *repoState, sha string) map[string]any {
	c := rp.commits[sha]
	parents := []map[string]any{}
	for _, p := range c.Parents {
		parents = append(parents, map[string]any{
			"sha": p, "url": s.apiURL(rp, "git/commits/%s", p), "html_url": s.htmlURL(rp, "commit/%s", p),
		})
	}
	sig := func(g signature) map[string]any {
		return map[string]any{"name": g.Name, "email": g.Email, "date": g.When.UTC().Format(time.RFC3339)}
	}
	return map[string]any{
		"sha": sha, "node_id": "C_" + sha,
		"url": s.apiURL(rp, "git/commits/%s", sha), "html_url": s.htmlURL(rp, "commit/%s", sha),
		"author": sig(c.Author), "committer": sig(c.Committer), "message": c.Message,
		"tree":         map[string]any{"sha": c.Tree, "url": s.apiURL(rp, "git/trees/%s", c.Tree)},
		"parents":      parents,
		"verification": verificationJSON(c),
	}
}

func (s *Server) getGitCommit(w http.ResponseWriter, r *http.Request, rp *repoState) {
	sha := r.PathValue("sha")
	if _, ok := rp.commits[sha]; !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.commitJSON(rp, sha))
}

// sigInput is an author/committer in a create-commit request.
type sigInput struct {
	Name  string     `json:"name"`
	Email string     `json:"email"`
	Date  *time.Time `json:"date"`
}

// fakeUser is who the token belongs to: the default author of API commits.
var fakeUser = Identity{Name: "fake-user", Email: "fake-user@users.noreply.github.com"}

// AppBot is the identity of commits made with a GitHub App installation
// token: the App's bot account.
var AppBot = Identity{Name: "fake-app[bot]", Email: "1+fake-app[bot]@users.noreply.github.com"}

// verificationJSON is a commit's "verification" as GitHub reports it.
func verificationJSON(c *commitObj) map[string]any {
	if c.Signature == "" {
		return map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil}
	}
	return map[string]any{"verified": true, "reason": "valid", "signature": c.Signature, "payload": string(encodeCommit(&commitObj{
		Tree: c.Tree, Parents: c.Parents, Author: c.Author, Committer: c.Committer, Message: c.Message,
	}))}
}

func (s *Server) createCommit(w http.ResponseWriter, r *http.Request, rp *repoState) {
	var req struct {
		Message   *string   `json:"message"`
		Tree      string    `json:"tree"`
		Parents   []string  `json:"parents"`
		Author    *sigInput `json:"author"`
		Committer *sigInput `json:"committer"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	switch {
	case req.Message == nil:
		unprocessable(w, "Invalid request.\n\n\"message\" wasn't supplied.")
		return
	case req.Tree == "":
		unprocessable(w, "Invalid request.\n\n\"tree\" wasn't supplied.")
		return
	}
	if _, ok := rp.trees[req.Tree]; !ok {
		unprocessable(w, "Tree SHA does not exist")
		return
	}
	for _, p := range req.Parents {
		if _, ok := rp.commits[p]; !ok {
			unprocessable(w, "Parent SHA does not exist or is not a commit object")
			return
		}
	}
	now := s.now().UTC().Truncate(time.Second)
	toSig := func(in *sigInput, def signature) signature {
		if in == nil {
			return def
		}
		g := signature{Name: in.Name, Email: in.Email, When: now}
		if in.Date != nil {
			g.When = in.Date.Truncate(time.Second)
		}
		return g
	}
	// GitHub's rule: it signs a commit made with a GitHub App's
	// installation token and no custom author or committer, as the App's
	// bot; any other API commit is unsigned.
	who, signed := fakeUser, false
	if strings.HasPrefix(bearer(r), installationTokenPrefix) {
		who, signed = AppBot, req.Author == nil && req.Committer == nil
	}
	author := toSig(req.Author, signature{Name: who.Name, Email: who.Email, When: now})
	c := &commitObj{
		Tree: req.Tree, Parents: req.Parents, Message: *req.Message,
		Author: author, Committer: toSig(req.Committer, author),
	}
	if signed {
		c.Committer = signature{Name: "GitHub", Email: "noreply@github.com", When: now}
		c.Signature = "-----BEGIN PGP SIGNATURE-----\n\nfake signature of " + rp.owner + "/" + rp.name + "\n-----END PGP SIGNATURE-----"
	}
	sha := rp.putCommit(c)
	writeJSON(w, http.StatusCreated, s.commitJSON(rp, sha))
}

// getRepoCommit serves GET repos/{o}/{r}/commits/{ref}: JSON, or just the
// SHA with the "sha" media type. Both carry an ETag and answer a matching
// If-None-Match with 304, as GitHub does.
func (s *Server) getRepoCommit(w http.ResponseWriter, r *http.Request, rp *repoState) {
	ref := r.PathValue("ref")
	sha, ok := rp.resolveCommit(ref)
	if !ok {
		unprocessable(w, "No commit found for SHA: "+ref)
		return
	}
	var body []byte
	var etag string
	if wants(r, "sha") {
		body, etag = []byte(sha), `"`+sha+`"`
		w.Header().Set("Content-Type", "application/vnd.github.sha; charset=utf-8")
	} else {
		gc := s.commitJSON(rp, sha)
		delete(gc, "sha")
		delete(gc, "parents")
		delete(gc, "node_id")
		delete(gc, "html_url")
		resp := map[string]any{
			"sha": sha, "node_id": "C_" + sha, "commit": gc,
			"url": s.apiURL(rp, "commits/%s", sha), "html_url": s.htmlURL(rp, "commit/%s", sha),
			"parents": s.commitJSON(rp, sha)["parents"], "files": []any{},
		}
		body, _ = json.Marshal(resp)
		sum := sha256.Sum256(body)
		etag = `W/"` + hex.EncodeToString(sum[:]) + `"`
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.TrimPrefix(inm, "W/") == strings.TrimPrefix(etag, "W/") {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// refJSON renders a branch ref.
func (s *Server) refJSON(rp *repoState, branch string) map[string]any {
	sha := rp.branches[branch]
	return map[string]any{
		"ref": "refs/heads/" + branch, "node_id": "REF_" + branch,
		"url":    s.apiURL(rp, "git/refs/heads/%s", branch),
		"object": map[string]any{"type": "commit", "sha": sha, "url": s.apiURL(rp, "git/commits/%s", sha)},
	}
}

// branchOf maps "heads/x" (or "refs/heads/x") to "x"; other refs are not
// modelled.
func branchOf(ref string) (string, bool) {
	return strings.CutPrefix(strings.TrimPrefix(ref, "refs/"), "heads/")
}

func (s *Server) getRef(w http.ResponseWriter, r *http.Request, rp *repoState) {
	b, ok := branchOf(r.PathValue("ref"))
	if _, exists := rp.branches[b]; !ok || !exists {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.refJSON(rp, b))
}

func (s *Server) createRef(w http.ResponseWriter, r *http.Request, rp *repoState) {
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	// Only branches are modelled; "refs/heads/" must be followed by a name.
	b, ok := branchOf(req.Ref)
	if !strings.HasPrefix(req.Ref, "refs/") || !ok || !validTreePath(b) {
		unprocessable(w, "Reference name is invalid")
		return
	}
	if _, exists := rp.branches[b]; exists {
		unprocessable(w, "Reference already exists")
		return
	}
	if _, exists := rp.commits[req.SHA]; !exists {
		unprocessable(w, "Object does not exist")
		return
	}
	rp.branches[b] = req.SHA
	writeJSON(w, http.StatusCreated, s.refJSON(rp, b))
}

func (s *Server) updateRef(w http.ResponseWriter, r *http.Request, rp *repoState) {
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	b, ok := branchOf(r.PathValue("ref"))
	old, exists := rp.branches[b]
	if !ok || !exists {
		unprocessable(w, "Reference does not exist")
		return
	}
	if _, found := rp.commits[req.SHA]; !found {
		unprocessable(w, "Object does not exist")
		return
	}
	if !req.Force && !rp.isAncestor(old, req.SHA) {
		unprocessable(w, "Update is not a fast forward")
		return
	}
	rp.branches[b] = req.SHA
	writeJSON(w, http.StatusOK, s.refJSON(rp, b))
}

func (s *Server) deleteRef(w http.ResponseWriter, r *http.Request, rp *repoState) {
	b, ok := branchOf(r.PathValue("ref"))
	if _, exists := rp.branches[b]; !ok || !exists {
		unprocessable(w, "Reference does not exist")
		return
	}
	s.deleteBranch(rp, b)
	w.WriteHeader(http.StatusNoContent)
}

// deleteBranch removes a branch and closes open pull requests from it,
// as GitHub does when a head branch goes away.
func (s *Server) deleteBranch(rp *repoState, b string) {
	head := rp.branches[b]
	delete(rp.branches, b)
	for _, p := range rp.pulls {
		if p.State == "open" && p.Head == b {
			p.close(s.now(), head)
		}
	}
}

package githubfake

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
)

// repoState is one repository: objects, branches and pull requests.
type repoState struct {
	owner, name   string
	defaultBranch string
	*objectStore
	branches   map[string]string
	pulls      map[int]*pullState
	nextNumber int
	// collaborators and teams may be asked for reviews (and assigned).
	collaborators, teams map[string]bool
	// checks are the check results per commit SHA (see SetChecks).
	checks map[string][]Check
}

// resolveCommit turns a ref (commit SHA, branch name, "heads/x" or
// "refs/heads/x") into a commit SHA.
func (rp *repoState) resolveCommit(ref string) (string, bool) {
	if _, ok := rp.commits[ref]; ok {
		return ref, true
	}
	name := strings.TrimPrefix(strings.TrimPrefix(ref, "refs/"), "heads/")
	sha, ok := rp.branches[name]
	return sha, ok
}

// Someone is the identity SetFile commits as: a person, not the code
// under test.
var Someone = Identity{Name: "Someone Else", Email: "someone@example.com"}

// Identity is a commit author.
type Identity struct {
	Name  string
	Email string
}

// Repo is a test's handle on a fake repository; its methods inspect and
// change state directly, without going through the API or its log.
type Repo struct {
	s           *Server
	owner, name string
}

// CreateRepo makes a repository whose default branch "main" holds files
// (path -> content) in one initial commit by Someone.
func (s *Server) CreateRepo(owner, name string, files map[string]string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := &repoState{
		owner: owner, name: name, defaultBranch: "main",
		objectStore:   newObjectStore(),
		branches:      map[string]string{},
		pulls:         map[int]*pullState{},
		collaborators: map[string]bool{}, teams: map[string]bool{},
		checks: map[string][]Check{},
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	edits := make([]treeEdit, 0, len(files))
	for _, p := range paths {
		edits = append(edits, treeEdit{Path: p, Mode: modeFile, SHA: rp.putBlob([]byte(files[p]))})
	}
	tree := rp.applyTree("", edits)
	rp.branches["main"] = rp.putCommit(s.someoneCommit(tree, nil, "Initial commit"))
	s.repos[owner+"/"+name] = rp
	return &Repo{s: s, owner: owner, name: name}
}

// Repo returns the handle of an existing repository, panicking when it
// does not exist (a test bug).
func (s *Server) Repo(owner, name string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repos[owner+"/"+name] == nil {
		panic(fmt.Sprintf("githubfake: no repository %s/%s", owner, name))
	}
	return &Repo{s: s, owner: owner, name: name}
}

// someoneCommit builds a commit by Someone at the fake's now.
func (s *Server) someoneCommit(tree string, parents []string, msg string) *commitObj {
	sig := signature{Name: Someone.Name, Email: Someone.Email, When: s.now().UTC().Truncate(time.Second)}
	return &commitObj{Tree: tree, Parents: parents, Author: sig, Committer: sig, Message: msg}
}

// with runs fn under the server lock with the repository's state.
func (r *Repo) with(fn func(rp *repoState)) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	fn(r.s.repos[r.owner+"/"+r.name])
}

// Branch returns a branch's head commit.
func (r *Repo) Branch(name string) (sha string, ok bool) {
	r.with(func(rp *repoState) { sha, ok = rp.branches[name] })
	return sha, ok
}

// Branches returns every branch and its head.
func (r *Repo) Branches() map[string]string {
	m := map[string]string{}
	r.with(func(rp *repoState) {
		for k, v := range rp.branches {
			m[k] = v
		}
	})
	return m
}

// CreateBranch points a new or existing branch at a commit.
func (r *Repo) CreateBranch(name, sha string) {
	r.with(func(rp *repoState) { rp.branches[name] = sha })
}

// DeleteBranch removes a branch, closing open pull requests from it as
// GitHub does.
func (r *Repo) DeleteBranch(name string) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.deleteBranch(r.s.repos[r.owner+"/"+r.name], name)
}

// SetFile commits content at path on top of branch as Someone (creating
// the branch from the default branch when missing) and returns the new
// head. It stands for a person pushing to the repository.
func (r *Repo) SetFile(branch, path string, content []byte) string {
	var sha string
	r.with(func(rp *repoState) {
		parent, ok := rp.branches[branch]
		if !ok {
			parent = rp.branches[rp.defaultBranch]
		}
		edit := treeEdit{Path: path, Mode: modeFile, SHA: rp.putBlob(content)}
		tree := rp.applyTree(rp.commits[parent].Tree, []treeEdit{edit})
		sha = rp.putCommit(r.s.someoneCommit(tree, []string{parent}, "Edit "+path))
		rp.branches[branch] = sha
	})
	return sha
}

// File reads path at ref (branch or commit SHA).
func (r *Repo) File(ref, path string) (data []byte, ok bool) {
	r.with(func(rp *repoState) {
		c, found := rp.resolveCommit(ref)
		if !found {
			return
		}
		e, found := rp.lookup(rp.commits[c].Tree, path)
		if !found || e.kind() != "blob" {
			return
		}
		data, ok = bytes.Clone(rp.blobs[e.SHA]), true
	})
	return data, ok
}

// Commit is a snapshot of a stored commit.
type Commit struct {
	SHA       string
	Tree      string
	Parents   []string
	Author    Identity
	Committer Identity
	Date      time.Time
	Message   string
	Verified  bool // signed by GitHub (see AppBot)
}

// Commit returns the commit with the given SHA.
func (r *Repo) Commit(sha string) (c Commit, ok bool) {
	r.with(func(rp *repoState) {
		co, found := rp.commits[sha]
		if !found {
			return
		}
		c, ok = Commit{
			SHA: sha, Tree: co.Tree, Parents: append([]string(nil), co.Parents...),
			Author:    Identity{co.Author.Name, co.Author.Email},
			Committer: Identity{co.Committer.Name, co.Committer.Email},
			Date:      co.Author.When, Message: co.Message, Verified: co.Signature != "",
		}, true
	})
	return c, ok
}

// ChangedPaths lists the file paths whose content or mode differs between
// two commits (or branches), sorted.
func (r *Repo) ChangedPaths(from, to string) []string {
	var out []string
	r.with(func(rp *repoState) {
		files := func(ref string) map[string]treeEntry {
			m := map[string]treeEntry{}
			c, ok := rp.resolveCommit(ref)
			if !ok {
				return m
			}
			rp.walk(rp.commits[c].Tree, "", func(p string, e treeEntry) {
				if e.Mode != modeTree {
					m[p] = e
				}
			})
			return m
		}
		a, b := files(from), files(to)
		for p, e := range a {
			if b[p] != e {
				out = append(out, p)
			}
		}
		for p := range b {
			if _, ok := a[p]; !ok {
				out = append(out, p)
			}
		}
	})
	sort.Strings(out)
	return out
}

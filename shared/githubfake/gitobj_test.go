package githubfake

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHashObjectMatchesGitKnownIDs(t *testing.T) {
	o := newObjectStore()
	tests := []struct {
		name, got, want string
	}{
		{"empty blob", o.putBlob(nil), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
		{"hello blob", o.putBlob([]byte("hello\n")), "ce013625030ba8dba906f756967f9e9ca394464a"},
		{"empty tree", o.putTree(nil), "4b825dc642cb6eb9a060e54bf8d69288fbee4904"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestSortTreeComparesSubtreesWithTrailingSlash(t *testing.T) {
	entries := []treeEntry{
		{Name: "a", Mode: modeTree}, {Name: "a.b", Mode: modeFile}, {Name: "a-b", Mode: modeFile}, {Name: "Z", Mode: modeFile},
	}
	sortTree(entries)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	// '-' < '.' < '/', so the subtree "a" ("a/") sorts last.
	if got, want := strings.Join(names, " "), "Z a-b a.b a"; got != want {
		t.Fatalf("order %q, want %q", got, want)
	}
}

func TestApplyTreeNestedPathsAndDeletes(t *testing.T) {
	o := newObjectStore()
	blob := o.putBlob([]byte("x"))
	base := o.applyTree("", []treeEdit{
		{Path: "top.txt", Mode: modeFile, SHA: blob},
		{Path: "dir/sub/deep.txt", Mode: modeFile, SHA: blob},
		{Path: "dir/keep.txt", Mode: modeFile, SHA: blob},
	})
	if e, ok := o.lookup(base, "dir/sub/deep.txt"); !ok || e.SHA != blob {
		t.Fatalf("nested path not created: %+v %v", e, ok)
	}
	next := o.applyTree(base, []treeEdit{{Path: "dir/sub/deep.txt", Delete: true}})
	if _, ok := o.lookup(next, "dir/sub"); ok {
		t.Fatal("emptied subtree should disappear, as in git")
	}
	if _, ok := o.lookup(next, "dir/keep.txt"); !ok {
		t.Fatal("sibling lost")
	}
	if again := o.applyTree(next, nil); again != next {
		t.Fatal("applying no edits must keep the tree SHA")
	}
}

func TestIsAncestorFollowsParents(t *testing.T) {
	o := newObjectStore()
	tree := o.putTree(nil)
	sig := signature{Name: "n", Email: "e", When: time.Unix(1, 0).UTC()}
	a := o.putCommit(&commitObj{Tree: tree, Author: sig, Committer: sig, Message: "a"})
	b := o.putCommit(&commitObj{Tree: tree, Parents: []string{a}, Author: sig, Committer: sig, Message: "b"})
	c := o.putCommit(&commitObj{Tree: tree, Parents: []string{a}, Author: sig, Committer: sig, Message: "c"})
	for _, tt := range []struct {
		anc, desc string
		want      bool
	}{{a, b, true}, {b, b, true}, {b, a, false}, {b, c, false}} {
		if got := o.isAncestor(tt.anc, tt.desc); got != tt.want {
			t.Errorf("isAncestor(%s, %s) = %v", shortSHA(tt.anc), shortSHA(tt.desc), got)
		}
	}
}

// TestObjectsMatchRealGit builds the same tree and commit with the git
// binary, when present, to prove the fake's SHAs are git's.
func TestObjectsMatchRealGit(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	run := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gitBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run(nil, "init", "-q")
	files := map[string]string{"a.txt": "a\n", "a-b": "dash\n", "a/b.txt": "nested\n", "a/c/d.yaml": "k: v\n"}
	o := newObjectStore()
	var edits []treeEdit
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		edits = append(edits, treeEdit{Path: p, Mode: modeFile, SHA: o.putBlob([]byte(c))})
	}
	run(nil, "add", "-A")
	wantTree := run(nil, "write-tree")
	if got := o.applyTree("", edits); got != wantTree {
		t.Fatalf("tree %s, git says %s", got, wantTree)
	}
	env := []string{
		"GIT_AUTHOR_NAME=A U Thor", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_AUTHOR_DATE=1700000000 +0000",
		"GIT_COMMITTER_NAME=C O Mitter", "GIT_COMMITTER_EMAIL=c@example.com", "GIT_COMMITTER_DATE=1700000100 +0000",
	}
	wantCommit := run(env, "commit-tree", wantTree, "-m", "subject")
	c := &commitObj{
		Tree:      wantTree,
		Author:    signature{Name: "A U Thor", Email: "a@example.com", When: time.Unix(1700000000, 0).UTC()},
		Committer: signature{Name: "C O Mitter", Email: "c@example.com", When: time.Unix(1700000100, 0).UTC()},
		Message:   "subject\n",
	}
	if got := o.putCommit(c); got != wantCommit {
		t.Fatalf("commit %s, git says %s", got, wantCommit)
	}
}

// shortSHA abbreviates a SHA for test messages.
func shortSHA(sha string) string { return sha[:7] }

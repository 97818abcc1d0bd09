package githubfake

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
)

// newRepo starts a fake with one repository o/r holding files on main.
func newRepo(t *testing.T, files map[string]string, opts ...Option) (*Server, *Repo, *github.Client) {
	t.Helper()
	s := New(t, opts...)
	r := s.CreateRepo("o", "r", files)
	return s, r, s.Client()
}

// apiErr asserts err is a GitHub error with status and a message containing msg.
func apiErr(t *testing.T, err error, status int, msg string) {
	t.Helper()
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("want *github.ErrorResponse %d %q, got %v", status, msg, err)
	}
	text := er.Message
	for _, e := range er.Errors {
		text += " " + e.Message
	}
	if er.Response.StatusCode != status || !strings.Contains(text, msg) {
		t.Fatalf("got %d %q, want %d containing %q", er.Response.StatusCode, text, status, msg)
	}
}

func TestContentsInlineUpToOneMegabyte(t *testing.T) {
	big := strings.Repeat("x", maxInlineContent+1)
	_, r, c := newRepo(t, map[string]string{"small.yaml": "a: 1\n", "dir/big.yaml": big})
	ctx := context.Background()

	fc, _, _, err := c.Repositories.GetContents(ctx, "o", "r", "small.yaml", &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fc.GetContent(); got != "a: 1\n" || fc.GetSHA() != hashObject("blob", []byte("a: 1\n")) {
		t.Fatalf("small file: %q sha %s", got, fc.GetSHA())
	}

	fc, _, _, err = c.Repositories.GetContents(ctx, "o", "r", "dir/big.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if fc.GetEncoding() != "none" || fc.Content != nil && *fc.Content != "" || fc.GetSize() != len(big) {
		t.Fatalf("big file: encoding %q size %d", fc.GetEncoding(), fc.GetSize())
	}
	raw, _, err := c.Git.GetBlobRaw(ctx, "o", "r", fc.GetSHA())
	if err != nil || string(raw) != big {
		t.Fatalf("blob raw: %v (len %d)", err, len(raw))
	}
	blob, _, err := c.Git.GetBlob(ctx, "o", "r", fc.GetSHA())
	if err != nil || blob.GetEncoding() != "base64" || blob.GetSize() != len(big) {
		t.Fatalf("blob json: %v %+v", err, blob)
	}

	_, dir, _, err := c.Repositories.GetContents(ctx, "o", "r", "dir", nil)
	if err != nil || len(dir) != 1 || dir[0].GetType() != "file" || dir[0].GetPath() != "dir/big.yaml" {
		t.Fatalf("dir listing: %v %+v", err, dir)
	}
	_, _, _, err = c.Repositories.GetContents(ctx, "o", "r", "missing.yaml", nil)
	apiErr(t, err, http.StatusNotFound, "Not Found")
	if _, ok := r.File("main", "dir/big.yaml"); !ok {
		t.Fatal("File helper misses nested file")
	}
}

func TestTreesWithBaseTreeInlineContentAndNestedPaths(t *testing.T) {
	_, r, c := newRepo(t, map[string]string{"keep.txt": "k\n", "reg/registry.yaml": "old\n", "gone.txt": "g\n"})
	ctx := context.Background()
	head, _ := r.Branch("main")
	base, _ := r.Commit(head)

	tree, _, err := c.Git.CreateTree(ctx, "o", "r", base.Tree, []*github.TreeEntry{
		{Path: github.String("reg/registry.yaml"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("new\n")},
		{Path: github.String("a/b/c.txt"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("c\n")},
		{Path: github.String("gone.txt"), Mode: github.String("100644"), Type: github.String("blob")}, // sha: null deletes
	})
	if err != nil {
		t.Fatal(err)
	}
	full, _, err := c.Git.GetTree(ctx, "o", "r", tree.GetSHA(), true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range full.Entries {
		got[e.GetPath()] = e.GetType()
	}
	for _, p := range []string{"keep.txt", "reg", "reg/registry.yaml", "a", "a/b", "a/b/c.txt"} {
		if got[p] == "" {
			t.Errorf("missing %s in %v", p, got)
		}
	}
	if got["gone.txt"] != "" {
		t.Error("deleted entry still present")
	}

	// Same edits again give the same SHA: content addressing.
	again, _, err := c.Git.CreateTree(ctx, "o", "r", tree.GetSHA(), []*github.TreeEntry{
		{Path: github.String("reg/registry.yaml"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("new\n")},
	})
	if err != nil || again.GetSHA() != tree.GetSHA() {
		t.Fatalf("re-applying same content changed the tree: %v %s vs %s", err, again.GetSHA(), tree.GetSHA())
	}

	bad := []struct {
		name  string
		base  string
		entry *github.TreeEntry
		msg   string
	}{
		{"unknown base", strings.Repeat("0", 40), &github.TreeEntry{Path: github.String("x"), Mode: github.String("100644"), Content: github.String("x")}, "base_tree"},
		{"bad mode", "", &github.TreeEntry{Path: github.String("x"), Mode: github.String("644"), Content: github.String("x")}, "tree.mode"},
		{"bad path", "", &github.TreeEntry{Path: github.String("/x"), Mode: github.String("100644"), Content: github.String("x")}, "malformed path"},
		{"type mismatch", "", &github.TreeEntry{Path: github.String("x"), Mode: github.String("100644"), Type: github.String("tree"), Content: github.String("x")}, "tree.type"},
		{"unknown blob", "", &github.TreeEntry{Path: github.String("x"), Mode: github.String("100644"), SHA: github.String(strings.Repeat("1", 40))}, "not a valid blob"},
		{"sha and content", "", &github.TreeEntry{Path: github.String("x"), Mode: github.String("100644"), SHA: github.String(strings.Repeat("1", 40)), Content: github.String("x")}, "either tree.sha or tree.content"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.Git.CreateTree(ctx, "o", "r", tt.base, []*github.TreeEntry{tt.entry})
			apiErr(t, err, http.StatusUnprocessableEntity, tt.msg)
		})
	}
}

func TestBlobsCreateAndRead(t *testing.T) {
	_, _, c := newRepo(t, nil)
	ctx := context.Background()
	for _, b := range []*github.Blob{
		{Content: github.String("plain\n"), Encoding: github.String("utf-8")},
		{Content: github.String("cGxhaW4K"), Encoding: github.String("base64")},
	} {
		got, _, err := c.Git.CreateBlob(ctx, "o", "r", b)
		if err != nil || got.GetSHA() != hashObject("blob", []byte("plain\n")) {
			t.Fatalf("create blob: %v %s", err, got.GetSHA())
		}
	}
	_, _, err := c.Git.GetBlob(ctx, "o", "r", strings.Repeat("a", 40))
	apiErr(t, err, http.StatusNotFound, "Not Found")
}

func TestCommitsParentsAuthorAndValidation(t *testing.T) {
	_, r, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	head, _ := r.Branch("main")
	base, _ := r.Commit(head)
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	created, _, err := c.Git.CreateCommit(ctx, "o", "r", &github.Commit{
		Message: github.String("msg"), Tree: &github.Tree{SHA: github.String(base.Tree)},
		Parents: []*github.Commit{{SHA: github.String(head)}},
		Author:  &github.CommitAuthor{Name: github.String("Bot"), Email: github.String("bot@example.com"), Date: &github.Timestamp{Time: when}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Git.GetCommit(ctx, "o", "r", created.GetSHA())
	if err != nil {
		t.Fatal(err)
	}
	if got.GetTree().GetSHA() != base.Tree || got.Parents[0].GetSHA() != head ||
		got.GetAuthor().GetName() != "Bot" || got.GetCommitter().GetEmail() != "bot@example.com" ||
		!got.GetAuthor().GetDate().Time.Equal(when) {
		t.Fatalf("commit round trip: %+v", got)
	}
	// The SHA is git's: recomputing it from the stored fields agrees.
	co, _ := r.Commit(created.GetSHA())
	sig := signature{Name: "Bot", Email: "bot@example.com", When: when}
	if want := hashObject("commit", encodeCommit(&commitObj{Tree: co.Tree, Parents: co.Parents, Author: sig, Committer: sig, Message: "msg"})); want != created.GetSHA() {
		t.Fatalf("sha %s, want %s", created.GetSHA(), want)
	}

	_, _, err = c.Git.CreateCommit(ctx, "o", "r", &github.Commit{Message: github.String("m"), Tree: &github.Tree{SHA: github.String(strings.Repeat("2", 40))}}, nil)
	apiErr(t, err, http.StatusUnprocessableEntity, "Tree SHA does not exist")
	_, _, err = c.Git.CreateCommit(ctx, "o", "r", &github.Commit{
		Message: github.String("m"), Tree: &github.Tree{SHA: github.String(base.Tree)},
		Parents: []*github.Commit{{SHA: github.String(strings.Repeat("3", 40))}},
	}, nil)
	apiErr(t, err, http.StatusUnprocessableEntity, "Parent SHA does not exist")
}

func TestRepoCommitETagAnswers304(t *testing.T) {
	_, r, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	head, _ := r.Branch("main")

	sha, _, err := c.Repositories.GetCommitSHA1(ctx, "o", "r", "main", "")
	if err != nil || sha != head {
		t.Fatalf("sha media type: %v %q", err, sha)
	}
	_, resp, err := c.Repositories.GetCommitSHA1(ctx, "o", "r", "main", head)
	if err == nil || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("want 304 for unchanged head, got %v", err)
	}

	rc, resp, err := c.Repositories.GetCommit(ctx, "o", "r", "main", nil)
	if err != nil || rc.GetSHA() != head || rc.GetCommit().GetTree().GetSHA() == "" {
		t.Fatalf("json commit: %v %+v", err, rc)
	}
	req, _ := c.NewRequest("GET", "repos/o/r/commits/main", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = c.Do(ctx, req, nil)
	if resp == nil || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("json etag: want 304, got %v", err)
	}

	r.SetFile("main", "f", []byte("2"))
	sha, _, err = c.Repositories.GetCommitSHA1(ctx, "o", "r", "main", head)
	if err != nil || sha == head {
		t.Fatalf("moved head must answer 200 with the new sha: %v %q", err, sha)
	}
	_, _, err = c.Repositories.GetCommit(ctx, "o", "r", "nope", nil)
	apiErr(t, err, http.StatusUnprocessableEntity, "No commit found")
}

func TestRefsCreateUpdateDelete(t *testing.T) {
	_, r, c := newRepo(t, map[string]string{"f": "1"})
	ctx := context.Background()
	main, _ := r.Branch("main")
	child := r.SetFile("side", "f", []byte("2")) // side = main + 1
	sibling := r.SetFile("other", "f", []byte("3"))
	const branch = "machinery-status-collector/registry"
	ref := func(sha string) *github.Reference {
		return &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)}}
	}

	_, _, err := c.Git.GetRef(ctx, "o", "r", "heads/"+branch)
	apiErr(t, err, http.StatusNotFound, "Not Found")
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.DocumentationURL == "" {
		t.Error("404 without documentation_url")
	}

	if _, _, err := c.Git.CreateRef(ctx, "o", "r", ref(main)); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Git.CreateRef(ctx, "o", "r", ref(main))
	apiErr(t, err, http.StatusUnprocessableEntity, "Reference already exists")

	got, _, err := c.Git.GetRef(ctx, "o", "r", "heads/"+branch)
	if err != nil || got.GetObject().GetSHA() != main || got.GetRef() != "refs/heads/"+branch {
		t.Fatalf("get ref: %v %+v", err, got)
	}
	if _, _, err := c.Git.UpdateRef(ctx, "o", "r", ref(child), false); err != nil {
		t.Fatalf("fast forward refused: %v", err)
	}
	_, _, err = c.Git.UpdateRef(ctx, "o", "r", ref(sibling), false)
	apiErr(t, err, http.StatusUnprocessableEntity, "Update is not a fast forward")
	if _, _, err := c.Git.UpdateRef(ctx, "o", "r", ref(sibling), true); err != nil {
		t.Fatalf("forced update: %v", err)
	}
	if sha, _ := r.Branch(branch); sha != sibling {
		t.Fatalf("branch at %s, want %s", sha, sibling)
	}
	resp, err := c.Git.DeleteRef(ctx, "o", "r", "heads/"+branch)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.Git.DeleteRef(ctx, "o", "r", "heads/"+branch)
	apiErr(t, err, http.StatusUnprocessableEntity, "Reference does not exist")
	_, _, err = c.Git.UpdateRef(ctx, "o", "r", ref(main), true)
	apiErr(t, err, http.StatusUnprocessableEntity, "Reference does not exist")
}

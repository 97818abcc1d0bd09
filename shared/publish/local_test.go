package publish

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newLocal sets up a registry file on disk and a Local publisher whose
// log lands in the returned buffer.
func newLocal(t *testing.T, content string) (*Local, string, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l, err := NewLocal(Config{Path: file, LocalDir: filepath.Join(dir, ".local", "pr"), Labels: []string{"registry"}},
		Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return l, file, &logs
}

func TestLocalPublishLifecycle(t *testing.T) {
	const orig = "a: Ready\nb: Ready\n"
	l, file, logs := newLocal(t, orig)
	ctx := context.Background()
	d := Desired{Title: "Update claim status", Body: "| claim | old | new |"}

	steps := []struct {
		name       string
		content    string
		wantAction string
		wantFile   bool
	}{
		{"first proposal", "a: Ready\nb: NotReady\n", ActionOpened, true},
		{"same again", "a: Ready\nb: NotReady\n", ActionUnchanged, true},
		{"new content", "a: NotReady\nb: NotReady\n", ActionUpdated, true},
		{"back to base", orig, ActionClosed, false},
		{"still nothing", orig, ActionUnchanged, false},
	}
	var st State
	for _, step := range steps {
		base, err := l.ReadBase(ctx)
		if err != nil {
			t.Fatal(err)
		}
		logs.Reset()
		var res Result
		res, st, err = l.Publish(ctx, base, []byte(step.content), d, st)
		if err != nil || res.Action != step.wantAction || res.Calls != 0 {
			t.Fatalf("%s: %v %+v", step.name, err, res)
		}
		got, err := os.ReadFile(l.proposalPath(file))
		if step.wantFile != (err == nil) || step.wantFile && string(got) != step.content {
			t.Fatalf("%s: proposal %q (%v)", step.name, got, err)
		}
		if !step.wantFile {
			if _, err := os.Stat(l.prPath()); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s: PR.md left behind", step.name)
			}
		}
		if step.wantAction == ActionOpened || step.wantAction == ActionUpdated {
			pr, _ := os.ReadFile(l.prPath())
			if !strings.HasPrefix(string(pr), "# Update claim status\n\n| claim |") || !strings.Contains(string(pr), "Labels: registry") {
				t.Fatalf("%s: PR.md %q", step.name, pr)
			}
			if !strings.Contains(logs.String(), "+++ b/registry.yaml") {
				t.Fatalf("%s: diff not logged: %s", step.name, logs.String())
			}
		}
		if disk, _ := os.ReadFile(file); string(disk) != orig {
			t.Fatal("the base file must never change")
		}
	}
	if ok, err := l.Check(ctx, st); err != nil || !ok {
		t.Fatalf("check after closing: %v %v", ok, err)
	}
	if err := os.WriteFile(file, []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.Check(ctx, st); ok {
		t.Fatal("check must see the file change")
	}
	if ok, _ := l.Check(ctx, State{}); ok {
		t.Fatal("unknown state is never clean")
	}
	if entries, _ := os.ReadDir(filepath.Dir(l.prPath())); len(entries) != 0 {
		t.Fatalf("temp files left: %v", entries)
	}
}

func TestLocalRefusesToOverwriteBase(t *testing.T) {
	dir := t.TempDir()
	_, err := NewLocal(Config{Path: filepath.Join(dir, "r.yaml"), LocalDir: dir}, Options{})
	if err == nil || !strings.Contains(err.Error(), "would overwrite") {
		t.Fatalf("got %v", err)
	}
	if _, err := NewLocal(Config{}, Options{}); err == nil {
		t.Fatal("path required")
	}
}

func TestLocalReadBaseMissingFile(t *testing.T) {
	l, file, _ := newLocal(t, "x")
	os.Remove(file)
	if _, err := l.ReadBase(context.Background()); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("got %v", err)
	}
}

func TestWriteAtomicReplaces(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "f")
	for _, c := range []string{"one", "two"} {
		if err := writeAtomic(p, []byte(c)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(p); string(got) != c {
			t.Fatalf("got %q", got)
		}
	}
	if err := writeAtomic(filepath.Join(p, "under-a-file"), nil); err == nil {
		t.Fatal("want an error below a file")
	}
}

func TestClipLines(t *testing.T) {
	if got := clipLines("a\nb\nc\n", 2); got != "a\nb\n… 1 more lines\n" {
		t.Fatalf("got %q", got)
	}
	if got := clipLines("a\n", 2); got != "a\n" {
		t.Fatalf("got %q", got)
	}
}

// TestLocalPRTemplatesAndDraft: PR.md carries the title and commit
// message from the templates (or the defaults) and says when GitHub would
// open the PR as a draft, exactly.
func TestLocalPRTemplatesAndDraft(t *testing.T) {
	fields := &TemplateFields{Path: "registry.yaml", Changed: 2, Deleted: 1}
	for _, tc := range []struct {
		name string
		pr   PRConfig
		want string
	}{
		{"defaults", PRConfig{},
			"# chore(registry): update claim status (2 changed, 1 deleted)\n\nbody\n\nLabels: registry\n" +
				"\nCommit message:\n\n    chore(registry): update claim status (2 changed, 1 deleted)\n"},
		{"templates and draft", PRConfig{Draft: true, TitleTemplate: "fix: {{.Path}} ({{.Changed}})",
			CommitTemplate: "fix(registry): {{.Changed}} changed\n\nDeleted: {{.Deleted}}\n"},
			"# fix: registry.yaml (2)\n\n_Draft: GitHub opens this pull request as a draft (REGISTRY_PR_DRAFT)._\n\nbody\n\nLabels: registry\n" +
				"\nCommit message:\n\n    fix(registry): 2 changed\n\n    Deleted: 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "registry.yaml")
			if err := os.WriteFile(file, []byte("a: Ready\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := NewLocal(Config{Path: file, LocalDir: filepath.Join(dir, "pr"), Labels: []string{"registry"}, PR: tc.pr},
				Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			base, err := l.ReadBase(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			d := Desired{Title: "ignored when fields are set", Body: "body\n", Fields: fields}
			if _, _, err := l.Publish(context.Background(), base, []byte("a: NotReady\n"), d, State{}); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(l.prPath())
			if err != nil || string(got) != tc.want {
				t.Errorf("PR.md (%v) =\n%s\nwant\n%s", err, got, tc.want)
			}
		})
	}
}

// TestLocalLogsGitHubOnlySettings: reviewers, assignees and auto-merge
// are named in one INFO line at start, and nothing is said without them.
func TestLocalLogsGitHubOnlySettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		pr   PRConfig
		want string
	}{
		{"none", PRConfig{Draft: true, TitleTemplate: "x"}, ""},
		{"all", PRConfig{Reviewers: []string{"a"}, TeamReviewers: []string{"t"}, Assignees: []string{"b"}, AutoMerge: MergeSquash},
			"level=INFO msg=\"local publisher: these settings apply to GitHub only and are ignored here\" " +
				"set=REGISTRY_PR_REVIEWERS,REGISTRY_PR_TEAM_REVIEWERS,REGISTRY_PR_ASSIGNEES,REGISTRY_AUTOMERGE\n"},
		{"automerge", PRConfig{AutoMerge: MergeRebase},
			"level=INFO msg=\"local publisher: these settings apply to GitHub only and are ignored here\" set=REGISTRY_AUTOMERGE\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var logs bytes.Buffer
			noTime := func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}
			_, err := NewLocal(Config{Path: filepath.Join(dir, "registry.yaml"), LocalDir: filepath.Join(dir, "pr"), PR: tc.pr},
				Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: noTime}))})
			if err != nil || logs.String() != tc.want {
				t.Errorf("NewLocal: %v, logged\n%q\nwant\n%q", err, logs.String(), tc.want)
			}
		})
	}
}

package publish

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLocalShardedProposals: the local publisher mirrors a sharded
// registry: each changed file goes into the proposal folder under its
// path relative to the pattern's folder, a new file too; a file back at
// its base loses its proposal; an over-limit file is refused before
// anything is written.
func TestLocalShardedProposals(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	for name, content := range map[string]string{"a.yaml": "a: 1\n", "b.yaml": "b: 1\n", "notes.txt": "x\n"} {
		if err := os.MkdirAll(reg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(reg, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, ".local", "pr")
	l, err := NewLocal(Config{Path: filepath.Join(reg, "{cluster}.yaml"), LocalDir: out}, Options{Logger: slog.New(slog.DiscardHandler), MaxFileBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	head, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files, err := l.List(ctx, head, func(string) bool { return true })
	if err != nil || len(files) != 2 || files[0].Path != filepath.Join(reg, "a.yaml") || files[0].BlobSHA != BlobSHA([]byte("a: 1\n")) {
		t.Fatalf("list %+v %v", files, err)
	}
	change := func(f File, content string) Change {
		return Change{Path: f.Path, BaseBlobSHA: f.BlobSHA, Content: []byte(content), BlobSHA: BlobSHA([]byte(content))}
	}
	newFile := Change{Path: filepath.Join(reg, "c.yaml"), Content: []byte("c: 1\n"), BlobSHA: BlobSHA([]byte("c: 1\n"))}
	var changes []Change
	for _, c := range []Change{change(files[0], "a: 2\n"), change(files[1], "b: 1\n"), newFile} {
		staged, err := l.Stage(ctx, c)
		if err != nil || staged.Content != nil {
			t.Fatalf("stage %s: %v", c.Path, err)
		}
		changes = append(changes, staged)
	}
	res, st, err := l.PublishFiles(ctx, head, changes, Desired{Title: "t", Body: "b"}, State{})
	if err != nil || res.Action != ActionOpened || st.BaseSHA != head.SHA {
		t.Fatalf("publish %+v %+v %v", res, st, err)
	}
	got := map[string]string{}
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(out, p)
			got[rel] = string(b)
		}
		return nil
	})
	if want := map[string]string{"a.yaml": "a: 2\n", "c.yaml": "c: 1\n", PRFileName: "# t\n\nb\n\nCommit message:\n\n    t\n"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("proposal folder %v, want %v", got, want)
	}

	// a back at its base: its proposal goes, c's stays.
	changes[0] = change(files[0], "a: 1\n")
	if res, _, err := l.PublishFiles(ctx, head, changes, Desired{Title: "t", Body: "b2"}, st); err != nil || res.Action != ActionUpdated {
		t.Fatalf("second publish %+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(out, "a.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a.yaml proposal left behind")
	}

	_, err = l.Stage(ctx, change(files[1], strings.Repeat("b", 65)))
	if err == nil || !strings.Contains(err.Error(), "b.yaml would be 65 bytes, over the 64-byte limit") {
		t.Fatalf("over-limit stage: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "b.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("over-limit file written")
	}
}

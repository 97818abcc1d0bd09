package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// PRFileName is the file holding the local proposal's title and body.
const PRFileName = "PR.md"

// maxLoggedDiffLines bounds the diff written to the log; the proposal
// file itself always holds everything.
const maxLoggedDiffLines = 400

// Local stands in for GitHub when no credentials are set (make run): the
// registry file on disk plays the base branch and is never modified; the
// proposal (the file under its own base name, and PR.md) is written into
// a folder, and the unified diff is logged. It makes no network calls.
type Local struct {
	file   string // the "base branch" copy
	dir    string
	labels []string
	log    *slog.Logger
}

var _ Publisher = (*Local)(nil)

// NewLocal checks cfg.Path (and that the proposal cannot overwrite it).
func NewLocal(cfg Config, opt Options) (*Local, error) {
	cfg = cfg.withDefaults()
	if cfg.Path == "" {
		return nil, errors.New("local publisher: REGISTRY_FILE_PATH is required")
	}
	l := &Local{file: cfg.Path, dir: cfg.LocalDir, labels: cfg.Labels, log: opt.logger()}
	src, err1 := filepath.Abs(l.file)
	dst, err2 := filepath.Abs(l.proposalPath())
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("local publisher: %w", err)
	}
	if src == dst {
		return nil, fmt.Errorf("local publisher: REGISTRY_LOCAL_PR_DIR %q would overwrite REGISTRY_FILE_PATH %q", l.dir, l.file)
	}
	return l, nil
}

func (l *Local) proposalPath() string { return filepath.Join(l.dir, filepath.Base(l.file)) }
func (l *Local) prPath() string       { return filepath.Join(l.dir, PRFileName) }

// Check reports whether the file on disk is unchanged since the state was
// written (its blob SHA is the state's BaseSHA).
func (l *Local) Check(ctx context.Context, st State) (bool, error) {
	if !st.Known() {
		return false, nil
	}
	b, err := l.ReadBase(ctx)
	if err != nil {
		return false, err
	}
	return b.SHA == st.BaseSHA, nil
}

// ReadBase reads the registry file from disk; its blob SHA stands for the
// base commit.
func (l *Local) ReadBase(context.Context) (Base, error) {
	data, err := os.ReadFile(l.file)
	if err != nil {
		return Base{}, fmt.Errorf("read registry %s: %w", l.file, err)
	}
	sha := BlobSHA(data)
	return Base{SHA: sha, BlobSHA: sha, Content: data}, nil
}

// Publish writes the proposal when it differs from what the folder
// holds (ActionOpened when there was none, else ActionUpdated), and
// removes it when newContent equals the base (ActionClosed).
func (l *Local) Publish(_ context.Context, base Base, newContent []byte, d Desired, st State) (Result, State, error) {
	url := "file://" + absOr(l.prPath())
	if bytes.Equal(newContent, base.Content) {
		removed, err := l.removeProposal()
		if err != nil {
			return Result{Action: ActionUnchanged}, st, err
		}
		if !removed {
			return Result{Action: ActionUnchanged}, State{BaseSHA: base.SHA}, nil
		}
		l.log.Info("local pull request closed: the registry already holds the desired content", "dir", l.dir)
		return Result{Action: ActionClosed, PRURL: url}, State{BaseSHA: base.SHA}, nil
	}

	labels := d.Labels
	if labels == nil {
		labels = l.labels
	}
	pr := prMarkdown(d, labels)
	_, hash := renderBody(d.Title, d.Body)
	next := State{BaseSHA: base.SHA, BlobSHA: BlobSHA(newContent), BodyHash: hash, PRURL: url}

	old, err := os.ReadFile(l.proposalPath())
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Result{}, st, fmt.Errorf("read proposal: %w", err)
	}
	if oldPR, _ := os.ReadFile(l.prPath()); existed && bytes.Equal(old, newContent) && string(oldPR) == pr {
		return Result{Action: ActionUnchanged, PRURL: url}, next, nil
	}
	if err := writeAtomic(l.proposalPath(), newContent); err != nil {
		return Result{}, st, err
	}
	if err := writeAtomic(l.prPath(), []byte(pr)); err != nil {
		return Result{}, st, err
	}
	action := ActionOpened
	if existed {
		action = ActionUpdated
	}
	name := filepath.Base(l.file)
	l.log.Info("local pull request "+action, "dir", l.dir, "title", d.Title,
		"diff", clipLines(unifiedDiff("a/"+name, "b/"+name, base.Content, newContent, 3), maxLoggedDiffLines))
	return Result{Action: action, PRURL: url}, next, nil
}

// prMarkdown is the PR text as a file: title, body, labels.
func prMarkdown(d Desired, labels []string) string {
	var b strings.Builder
	b.WriteString("# " + d.Title + "\n\n" + strings.TrimRight(d.Body, "\n") + "\n")
	if len(labels) > 0 {
		b.WriteString("\nLabels: " + strings.Join(labels, ", ") + "\n")
	}
	return b.String()
}

// removeProposal deletes the proposal files, reporting whether any was
// there.
func (l *Local) removeProposal() (bool, error) {
	removed := false
	for _, p := range []string{l.proposalPath(), l.prPath()} {
		err := os.Remove(p)
		switch {
		case err == nil:
			removed = true
		case !errors.Is(err, fs.ErrNotExist):
			return removed, fmt.Errorf("remove proposal %s: %w", p, err)
		}
	}
	return removed, nil
}

// writeAtomic writes through a temporary file in the same folder and a
// rename, so a reader never sees half a file.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// clipLines keeps the first n lines of s and says how many were left out.
func clipLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("… %d more lines\n", len(lines)-n)
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

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
// registry files on disk play the base branch and are never modified; the
// proposal (each changed file under its path relative to the pattern's
// folder, and PR.md) is written into a folder, and the unified diff is
// logged. It makes no network calls.
type Local struct {
	pattern Pattern
	dir     string
	labels  []string
	pr      PRConfig
	log     *slog.Logger
	maxFile int64
}

var (
	_ Publisher = (*Local)(nil)
	_ Files     = (*Local)(nil)
)

// NewLocal checks cfg.Path (and that the proposal cannot overwrite it).
func NewLocal(cfg Config, opt Options) (*Local, error) {
	cfg = cfg.withDefaults()
	if cfg.Path == "" {
		return nil, errors.New("local publisher: REGISTRY_FILE_PATH is required")
	}
	p, err := ParsePattern(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("local publisher: %w", err)
	}
	l := &Local{pattern: p, dir: cfg.LocalDir, labels: cfg.Labels, pr: cfg.PR, log: opt.logger(), maxFile: opt.maxFile()}
	src, err1 := filepath.Abs(p.Root())
	dst, err2 := filepath.Abs(l.dir)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("local publisher: %w", err)
	}
	if src == dst {
		return nil, fmt.Errorf("local publisher: REGISTRY_LOCAL_PR_DIR %q would overwrite REGISTRY_FILE_PATH %q", l.dir, cfg.Path)
	}
	if set := githubOnly(cfg.PR); len(set) > 0 {
		l.log.Info("local publisher: these settings apply to GitHub only and are ignored here", "set", strings.Join(set, ","))
	}
	return l, nil
}

// githubOnly names the settings of c that mean nothing without GitHub
// (people to ask, a merge to make).
func githubOnly(c PRConfig) []string {
	var set []string
	for _, s := range []struct {
		name string
		on   bool
	}{
		{"REGISTRY_PR_REVIEWERS", len(c.Reviewers) > 0},
		{"REGISTRY_PR_TEAM_REVIEWERS", len(c.TeamReviewers) > 0},
		{"REGISTRY_PR_ASSIGNEES", len(c.Assignees) > 0},
		{"REGISTRY_AUTOMERGE", c.AutoMerge != ""},
	} {
		if s.on {
			set = append(set, s.name)
		}
	}
	return set
}

// proposalPath is where the proposal of the registry file name goes: its
// path relative to the pattern's folder, under the proposal folder.
func (l *Local) proposalPath(name string) string { return filepath.Join(l.dir, l.rel(name)) }

// rel is name relative to the pattern's folder.
func (l *Local) rel(name string) string {
	rel, err := filepath.Rel(l.pattern.Root(), name)
	if err != nil || strings.HasPrefix(rel, "..") {
		return filepath.Base(name)
	}
	return rel
}

func (l *Local) prPath() string { return filepath.Join(l.dir, PRFileName) }

// Check reports whether the files on disk are unchanged since the state
// was written (their combined SHA is the state's BaseSHA).
func (l *Local) Check(ctx context.Context, st State) (bool, error) {
	if !st.Known() {
		return false, nil
	}
	h, err := l.Head(ctx)
	if err != nil {
		return false, err
	}
	return h.SHA == st.BaseSHA, nil
}

// ReadBase reads the registry file from disk; its blob SHA stands for the
// base commit.
func (l *Local) ReadBase(ctx context.Context) (Base, error) {
	data, sha, err := l.Read(ctx, Head{}, l.pattern.Raw, "")
	if err != nil {
		return Base{}, err
	}
	return Base{SHA: sha, BlobSHA: sha, Content: data}, nil
}

// Head stands for the base commit: the blob SHA of a single file, or a
// hash over the matched files' paths and blob SHAs.
func (l *Local) Head(ctx context.Context) (Head, error) {
	if !l.pattern.Sharded() {
		_, sha, err := l.Read(ctx, Head{}, l.pattern.Raw, "")
		return Head{SHA: sha}, err
	}
	files, err := l.List(ctx, Head{}, func(string) bool { return true })
	if err != nil {
		return Head{}, err
	}
	changes := make([]Change, len(files))
	for i, f := range files {
		changes[i] = Change{Path: f.Path, BlobSHA: f.BlobSHA}
	}
	return Head{SHA: proposalID(changes)}, nil
}

// List globs the pattern on disk and hashes each file, one at a time.
func (l *Local) List(_ context.Context, _ Head, match func(string) bool) ([]File, error) {
	names, err := filepath.Glob(l.pattern.Glob())
	if err != nil {
		return nil, fmt.Errorf("list registry files %s: %w", l.pattern.Raw, err)
	}
	var files []File
	for _, name := range names {
		if _, ok := l.pattern.Match(name); !ok || !match(name) {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read registry %s: %w", name, err)
		}
		files = append(files, File{Path: name, BlobSHA: BlobSHA(data), Size: int64(len(data))})
	}
	return files, nil
}

// Read reads one registry file from disk.
func (l *Local) Read(_ context.Context, _ Head, name, _ string) ([]byte, string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, "", fmt.Errorf("read registry %s: %w", name, err)
	}
	return data, BlobSHA(data), nil
}

// Publish writes the proposal when it differs from what the folder
// holds (ActionOpened when there was none, else ActionUpdated), and
// removes it when newContent equals the base (ActionClosed).
func (l *Local) Publish(ctx context.Context, base Base, newContent []byte, d Desired, st State) (Result, State, error) {
	return l.PublishFiles(ctx, Head{SHA: base.SHA}, []Change{{
		Path: l.pattern.Raw, BaseBlobSHA: base.BlobSHA, Content: newContent, BlobSHA: BlobSHA(newContent), Base: base.Content,
	}}, d, st)
}

// PublishFiles writes each differing file into the folder (keeping its
// path relative to the pattern's folder) and PR.md, and removes the
// proposal of each file that no longer differs; with none differing it
// removes PR.md too (ActionClosed when anything was there). A change
// without content must already be proposed in the folder. A file over
// the size limit fails the call before anything is written.
func (l *Local) PublishFiles(_ context.Context, head Head, changes []Change, d Desired, st State) (Result, State, error) {
	if err := checkSizes(changes, l.maxFile); err != nil {
		return Result{}, st, err
	}
	url := "file://" + absOr(l.prPath())
	if !anyDiffers(changes) {
		removed, err := l.removeProposals(changes, true)
		if err != nil {
			return Result{Action: ActionUnchanged}, st, err
		}
		if !removed {
			return Result{Action: ActionUnchanged}, State{BaseSHA: head.SHA}, nil
		}
		l.log.Info("local pull request closed: the registry already holds the desired content", "dir", l.dir)
		return Result{Action: ActionClosed, PRURL: url}, State{BaseSHA: head.SHA}, nil
	}

	d, commit, err := l.pr.desired(d)
	if err != nil {
		return Result{Action: ActionUnchanged}, st, err
	}
	if commit == "" {
		commit = d.Title
	}
	labels := d.Labels
	if labels == nil {
		labels = l.labels
	}
	pr := prMarkdown(d, labels, commit, l.pr.Draft)
	_, hash := renderBody(d.Title, d.Body)
	next := State{BaseSHA: head.SHA, BlobSHA: proposalID(changes), BodyHash: hash, PRURL: url}

	oldPR, err := os.ReadFile(l.prPath())
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Result{}, st, fmt.Errorf("read proposal: %w", err)
	}
	wrote := string(oldPR) != pr
	removed, err := l.removeProposals(changes, false)
	if err != nil {
		return Result{}, st, err
	}
	for _, c := range changes {
		if !c.Differs() {
			continue
		}
		w, err := l.writeProposal(c)
		if err != nil {
			return Result{}, st, err
		}
		wrote = wrote || w
	}
	if !wrote && !removed && existed {
		return Result{Action: ActionUnchanged, PRURL: url}, next, nil
	}
	if err := writeAtomic(l.prPath(), []byte(pr)); err != nil {
		return Result{}, st, err
	}
	action := ActionOpened
	if existed {
		action = ActionUpdated
	}
	l.log.Info("local pull request "+action, "dir", l.dir, "title", d.Title)
	return Result{Action: action, PRURL: url}, next, nil
}

// Stage writes the change's proposal file now and returns the change
// without content.
func (l *Local) Stage(_ context.Context, c Change) (Change, error) {
	if err := checkSizes([]Change{c}, l.maxFile); err != nil {
		return c, err
	}
	if c.Differs() && c.Content != nil {
		if _, err := l.writeProposal(c); err != nil {
			return c, err
		}
	}
	c.Content, c.Base = nil, nil
	return c, nil
}

// writeProposal writes one differing file unless the folder already holds
// it, logging its diff when the base content is known; it reports whether
// it wrote.
func (l *Local) writeProposal(c Change) (bool, error) {
	dst := l.proposalPath(c.Path)
	old, err := os.ReadFile(dst)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("read proposal %s: %w", dst, err)
	}
	if c.Content == nil {
		if err != nil || BlobSHA(old) != c.BlobSHA {
			return false, fmt.Errorf("proposal %s no longer holds blob %s; the next run rewrites it", dst, short(c.BlobSHA))
		}
		return false, nil
	}
	if err == nil && bytes.Equal(old, c.Content) {
		return false, nil
	}
	if err := writeAtomic(dst, c.Content); err != nil {
		return false, err
	}
	if c.Base != nil {
		name := filepath.ToSlash(l.rel(c.Path))
		l.log.Info("local proposal diff", "file", dst,
			"diff", clipLines(windowDiff("a/"+name, "b/"+name, c.Base, c.Content, 3, diffWindow), maxLoggedDiffLines))
	}
	return true, nil
}

// prMarkdown is the PR text as a file: title, whether GitHub would open
// it as a draft, body, labels and the commit message (indented, so no
// text in it can end the block).
func prMarkdown(d Desired, labels []string, commit string, draft bool) string {
	var b strings.Builder
	b.WriteString("# " + d.Title + "\n\n")
	if draft {
		b.WriteString("_Draft: GitHub opens this pull request as a draft (REGISTRY_PR_DRAFT)._\n\n")
	}
	b.WriteString(strings.TrimRight(d.Body, "\n") + "\n")
	if len(labels) > 0 {
		b.WriteString("\nLabels: " + strings.Join(labels, ", ") + "\n")
	}
	b.WriteString("\nCommit message:\n\n")
	for line := range strings.Lines(strings.TrimRight(commit, "\n") + "\n") {
		if line == "\n" {
			b.WriteString(line)
			continue
		}
		b.WriteString("    " + line)
	}
	return b.String()
}

// removeProposals deletes the proposals of the changes that no longer
// differ (and PR.md when withPR), reporting whether any was there.
func (l *Local) removeProposals(changes []Change, withPR bool) (bool, error) {
	var paths []string
	for _, c := range changes {
		if !c.Differs() {
			paths = append(paths, l.proposalPath(c.Path))
		}
	}
	if withPR {
		paths = append(paths, l.prPath())
	}
	removed := false
	for _, p := range paths {
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

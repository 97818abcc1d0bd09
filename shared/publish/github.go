package publish

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v66/github"
)

// ErrNotFound marks a registry file missing on the base branch.
var ErrNotFound = errors.New("not found")

// GitHub publishes to a repository through go-github v66. See Publisher
// for the contract and Publish for the calls each case makes.
type GitHub struct {
	cfg   Config
	http  *http.Client
	base  *url.URL
	clock Clock
	log   *slog.Logger
	// maxFile is the largest file PublishFiles may push (MaxFileBytes).
	maxFile int64
}

var (
	_ Publisher = (*GitHub)(nil)
	_ Files     = (*GitHub)(nil)
)

// NewGitHub validates cfg and builds the HTTP stack: auth (token or App)
// over the retrying Transport over opt.HTTP.
func NewGitHub(cfg Config, opt Options) (*GitHub, error) {
	cfg = cfg.withDefaults()
	if !cfg.UseGitHub() {
		return nil, errors.New("github publisher: set GITHUB_TOKEN or the GITHUB_APP_* variables")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("github publisher: %w", err)
	}
	base, err := apiBaseURL(cfg.APIURL)
	if err != nil {
		return nil, err
	}
	tr := &Transport{Base: opt.HTTP, Clock: opt.clock(), OnCall: opt.OnCall, Logger: opt.logger()}
	hc, err := httpClient(cfg, base, tr)
	if err != nil {
		return nil, err
	}
	return &GitHub{cfg: cfg, http: hc, base: base, clock: opt.clock(), log: opt.logger(), maxFile: opt.maxFile()}, nil
}

// client makes a fresh go-github client per call. go-github remembers the
// last rate-limit headers and refuses later requests on its own until the
// reset; a fresh client leaves that decision to Transport, which knows
// the run's deadline.
func (g *GitHub) client() *github.Client {
	c := github.NewClient(g.http)
	c.BaseURL, c.UploadURL = g.base, g.base
	return c
}

// Check asks for the base head's SHA with If-None-Match set to
// state.BaseSHA: GitHub answers 304 when it has not moved (one call, and
// a 304 does not count against the rate limit).
func (g *GitHub) Check(ctx context.Context, st State) (bool, error) {
	if !st.Known() {
		return false, nil
	}
	sha, _, err := g.client().Repositories.GetCommitSHA1(ctx, g.cfg.Owner, g.cfg.Repo, g.cfg.BaseBranch, st.BaseSHA)
	if isStatus(err, http.StatusNotModified) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s head: %w", g.cfg.BaseBranch, err)
	}
	return sha == st.BaseSHA, nil
}

// ReadBase reads the base head (one call: commit SHA and tree), then the
// file's metadata through the contents API, whose content is inline up to
// 1 MB; a larger file is fetched as a raw git blob (up to 100 MB). Two
// calls for a small file, three for a large one.
func (g *GitHub) ReadBase(ctx context.Context) (Base, error) {
	h, err := g.Head(ctx)
	if err != nil {
		return Base{}, err
	}
	content, blob, err := g.Read(ctx, h, g.cfg.Path, "")
	if err != nil {
		return Base{}, err
	}
	return Base{SHA: h.SHA, TreeSHA: h.TreeSHA, BlobSHA: blob, Content: content}, nil
}

// Head reads the base branch head: its commit and tree SHA (one call).
func (g *GitHub) Head(ctx context.Context) (Head, error) {
	rc, _, err := g.client().Repositories.GetCommit(ctx, g.cfg.Owner, g.cfg.Repo, g.cfg.BaseBranch, &github.ListOptions{PerPage: 1})
	if err != nil {
		return Head{}, fmt.Errorf("read %s head: %w", g.cfg.BaseBranch, err)
	}
	h := Head{SHA: rc.GetSHA(), TreeSHA: rc.GetCommit().GetTree().GetSHA()}
	if h.SHA == "" || h.TreeSHA == "" {
		return Head{}, fmt.Errorf("read %s head: answer without commit or tree SHA", g.cfg.BaseBranch)
	}
	return h, nil
}

// List reads the base tree recursively (one call) and keeps the blobs
// whose path match accepts. A truncated answer (a repository too large
// for one listing) is an error rather than a silently partial registry.
func (g *GitHub) List(ctx context.Context, h Head, match func(string) bool) ([]File, error) {
	t, _, err := g.client().Git.GetTree(ctx, g.cfg.Owner, g.cfg.Repo, h.TreeSHA, true)
	if err != nil {
		return nil, fmt.Errorf("list tree %s of %s: %w", short(h.TreeSHA), g.cfg.BaseBranch, err)
	}
	if t.GetTruncated() {
		return nil, fmt.Errorf("list tree %s of %s: GitHub truncated the listing (too many files in the repository)", short(h.TreeSHA), g.cfg.BaseBranch)
	}
	var files []File
	for _, e := range t.Entries {
		if e.GetType() == "blob" && match(e.GetPath()) {
			files = append(files, File{Path: e.GetPath(), BlobSHA: e.GetSHA(), Size: int64(e.GetSize())})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// Read returns a file at head and its blob SHA. With blobSHA it reads the
// raw blob (one call); without, the contents API by path, whose content
// is inline up to 1 MB, then the raw blob for a larger file.
func (g *GitHub) Read(ctx context.Context, h Head, path, blobSHA string) ([]byte, string, error) {
	c := g.client()
	owner, repo := g.cfg.Owner, g.cfg.Repo
	var content []byte
	if blobSHA == "" {
		fc, dir, _, err := c.Repositories.GetContents(ctx, owner, repo, path, &github.RepositoryContentGetOptions{Ref: h.SHA})
		switch {
		case isStatus(err, http.StatusNotFound):
			return nil, "", fmt.Errorf("read registry %s@%s: %w on %s", path, short(h.SHA), ErrNotFound, g.cfg.BaseBranch)
		case err != nil:
			return nil, "", fmt.Errorf("read registry %s@%s: %w", path, short(h.SHA), err)
		case fc == nil || dir != nil || fc.GetType() != "file":
			return nil, "", fmt.Errorf("read registry %s@%s: not a file", path, short(h.SHA))
		}
		blobSHA = fc.GetSHA()
		if fc.GetEncoding() == "base64" {
			s, err := fc.GetContent()
			if err != nil {
				return nil, "", fmt.Errorf("read registry %s@%s: decode: %w", path, short(h.SHA), err)
			}
			content = []byte(s)
		}
	}
	if content == nil {
		var err error
		if content, _, err = c.Git.GetBlobRaw(ctx, owner, repo, blobSHA); err != nil {
			return nil, "", fmt.Errorf("read registry %s@%s: blob %s: %w", path, short(h.SHA), short(blobSHA), err)
		}
	}
	if got := BlobSHA(content); got != blobSHA {
		return nil, "", fmt.Errorf("read registry %s@%s: content hashes to %s, not blob %s", path, short(h.SHA), short(got), short(blobSHA))
	}
	return content, blobSHA, nil
}

// Stage creates the change's blob (one call: UTF-8 text as is, other
// bytes base64-encoded) and returns the change referring to it.
func (g *GitHub) Stage(ctx context.Context, c Change) (Change, error) {
	if err := checkSizes([]Change{c}, g.maxFile); err != nil {
		return c, err
	}
	if !c.Differs() || c.Content == nil {
		c.Content, c.Base = nil, nil
		return c, nil
	}
	blob := &github.Blob{Content: github.String(string(c.Content)), Encoding: github.String("utf-8")}
	if !utf8.Valid(c.Content) {
		blob = &github.Blob{Content: github.String(base64.StdEncoding.EncodeToString(c.Content)), Encoding: github.String("base64")}
	}
	b, _, err := g.client().Git.CreateBlob(ctx, g.cfg.Owner, g.cfg.Repo, blob)
	if err != nil {
		return c, fmt.Errorf("create blob for %s: %w", c.Path, err)
	}
	if b.GetSHA() != c.BlobSHA {
		return c, fmt.Errorf("create blob for %s: GitHub stored %s, want %s", c.Path, short(b.GetSHA()), short(c.BlobSHA))
	}
	c.Content, c.Base = nil, nil
	return c, nil
}

// isStatus reports whether err is a GitHub answer with that status.
func isStatus(err error, status int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == status
}

// hasMessage reports whether err is a 422 whose message, or one of its
// field errors, contains text (GitHub puts "already exists" in either).
func hasMessage(err error, text string) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	if strings.Contains(er.Message, text) {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

// short abbreviates a SHA for messages.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

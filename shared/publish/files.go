package publish

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
)

// MaxFileBytes is GitHub's limit on one file in a repository (100 MiB):
// a proposal with a larger file is refused before anything is pushed.
const MaxFileBytes = 100 << 20

// Head is the base branch head a run builds on.
type Head struct {
	SHA     string // base head commit (local: a hash of the files' blob SHAs)
	TreeSHA string // tree of SHA; empty for the local publisher
}

// File is a registry file in the base tree, as List reports it.
type File struct {
	Path    string
	BlobSHA string
	Size    int64
}

// Change is one file of a proposal. A file whose desired blob equals its
// base blob needs no entry in the tree, but may be passed (it then makes
// the local publisher remove an old proposal of it).
type Change struct {
	Path        string
	BaseBlobSHA string // "" for a file the base does not have
	// Content is the desired content. nil with BlobSHA set means the
	// content is already in the repository (proposed by an earlier run)
	// and is referenced by its blob SHA instead of being sent again.
	Content []byte
	BlobSHA string // git blob SHA of the desired content
	// Base is the base content when the caller has it, for the local
	// publisher's logged diff; optional.
	Base []byte
}

// Differs reports whether the change proposes something the base lacks.
func (c Change) Differs() bool { return c.BlobSHA != c.BaseBlobSHA }

// checkSizes refuses a proposal with a file over limit, before any call.
func checkSizes(changes []Change, limit int64) error {
	for _, c := range changes {
		if n := int64(len(c.Content)); c.Differs() && n > limit {
			return fmt.Errorf("registry file %s would be %d bytes, over the %d-byte limit GitHub sets for one file: shard the registry (REGISTRY_FILE_PATH with {cluster} or a glob); nothing was pushed", c.Path, n, limit)
		}
	}
	return nil
}

// proposalID names the set of differing files: for a single change its
// blob SHA (as State.BlobSHA always was), else a hash over the sorted
// paths and blob SHAs, so two runs proposing the same files agree.
func proposalID(changes []Change) string {
	var diff []Change
	for _, c := range changes {
		if c.Differs() {
			diff = append(diff, c)
		}
	}
	if len(diff) == 1 && len(changes) == 1 {
		return diff[0].BlobSHA
	}
	sort.Slice(diff, func(i, j int) bool { return diff[i].Path < diff[j].Path })
	h := sha1.New()
	for _, c := range diff {
		fmt.Fprintf(h, "%s\x00%s\n", c.Path, c.BlobSHA)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// anyDiffers reports whether any change proposes something.
func anyDiffers(changes []Change) bool {
	for _, c := range changes {
		if c.Differs() {
			return true
		}
	}
	return false
}

// Files is the multi-file side of a publisher, for sharded registries
// (REGISTRY_FILE_PATH a glob or a {cluster} template). A run calls Head,
// List, Read for each file it needs, then PublishFiles once: one commit
// with every changed file.
type Files interface {
	// Head reads the base branch head (one GitHub call).
	Head(ctx context.Context) (Head, error)
	// List returns the files of the base tree at head whose path match
	// accepts, sorted by path (one GitHub call).
	List(ctx context.Context, head Head, match func(path string) bool) ([]File, error)
	// Read returns one file at head and its blob SHA: by blob SHA when
	// known (one call), else by path (one call, two above 1 MB).
	Read(ctx context.Context, head Head, path, blobSHA string) ([]byte, string, error)
	// Stage uploads one changed file's content ahead of PublishFiles (a
	// blob, one call; the local publisher writes the proposal file) and
	// returns the change without content, so a run holds one file at a
	// time. A file over the size limit fails before the upload.
	Stage(ctx context.Context, c Change) (Change, error)
	// PublishFiles is Publish for several files: one commit on top of
	// head with every change that differs, the single PR matching d; when
	// none differs it closes the PR. A file over the size limit fails
	// the call before any write.
	PublishFiles(ctx context.Context, head Head, changes []Change, d Desired, st State) (Result, State, error)
}

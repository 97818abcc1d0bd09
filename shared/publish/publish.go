// Package publish turns a desired registry file into the single rolling
// pull request the collector keeps against the registry repository.
//
// A reconcile run uses it like this:
//
//	ctx, calls := publish.CountCalls(ctx)       // GitHub calls of the whole run
//	if !dirty {
//		if ok, err := p.Check(ctx, state); err == nil && ok {
//			return "skipped: clean"            // at most one call
//		}
//	}
//	base, err := p.ReadBase(ctx)                // registry file at the base head
//	desired := apply(base.Content, statuses)    // the caller's level-triggered edit
//	res, state, err := p.Publish(ctx, base, desired, publish.Desired{...}, state)
//	store(state)                                // always, even when err != nil
//
// A sharded registry (several files, see Pattern) uses the Files side
// instead: Head, List, Read and Stage per file, then one PublishFiles.
//
// GitHub drives the repository through go-github; Local stands in for it
// on a laptop, writing the proposal into a folder.
package publish

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
)

// Desired is the pull request the caller wants open.
type Desired struct {
	Title  string
	Body   string   // the caller's PR text; a hidden hash marker is appended
	Labels []string // added when the PR lacks them (checked when it is opened or edited); nil uses the config's labels
	// Fields, when set, make the title and the commit message from the
	// configured templates (Config.PR) instead of Title.
	Fields *TemplateFields
}

// State is what Publish knows about the PR between runs. It is plain data
// (JSON-serialisable) for the caller to keep, e.g. in Redis, and hand back
// to the next Check and Publish. The zero State means "unknown": Publish
// then discovers the branch and PR through the API instead of trusting it.
type State struct {
	// BaseSHA is the base-branch head the last Publish built on (or, for
	// the local publisher, the blob SHA of the file on disk). Empty means
	// the state is unknown.
	BaseSHA string `json:"baseSHA,omitempty"`
	// BlobSHA is the git blob SHA of the file content proposed on the
	// branch; empty when nothing is proposed.
	BlobSHA string `json:"blobSHA,omitempty"`
	// BranchSHA is the head commit of the PR branch that the collector
	// made; a different head means someone else pushed.
	BranchSHA string `json:"branchSHA,omitempty"`
	// TreeSHA is the tree of BranchSHA.
	TreeSHA string `json:"treeSHA,omitempty"`
	// PRNumber and PRURL identify the open PR; 0 when none is open.
	PRNumber int    `json:"prNumber,omitempty"`
	PRURL    string `json:"prURL,omitempty"`
	// BodyHash is the hash of the title and body last written to the PR,
	// the same one carried in the body's hidden marker.
	BodyHash string `json:"bodyHash,omitempty"`
	// Requested is the review and assignee request last made for the PR
	// ("#number:reviewers;teams;assignees"), so it is made once per PR and
	// setting, also when GitHub refused it.
	Requested string `json:"requested,omitempty"`
	// CommentTried is the PR whose closing comment failed without a
	// clear answer: the next close looks for it before commenting again.
	CommentTried int `json:"commentTried,omitempty"`
}

// Known reports whether the state was written by a Publish; a zero state
// (first run, or Redis wiped) is not.
func (s State) Known() bool { return s.BaseSHA != "" }

// Base is the registry file at the head of the base branch.
type Base struct {
	SHA     string // base head commit (local: blob SHA of the file)
	TreeSHA string // tree of SHA; empty for the local publisher
	BlobSHA string // git blob SHA of Content
	Content []byte
}

// Actions a Result reports.
const (
	// ActionOpened: a PR was created (or an existing one was adopted).
	ActionOpened = "opened"
	// ActionUpdated: the branch moved and/or the PR title/body changed.
	ActionUpdated = "updated"
	// ActionUnchanged: the PR (or its absence) already matched; nothing
	// was written.
	ActionUnchanged = "unchanged"
	// ActionClosed: the base already holds the desired file; the PR was
	// closed with a comment and its branch deleted.
	ActionClosed = "closed"
	// ActionForeignCommit: someone other than the collector pushed to the
	// PR branch; nothing was written and the PR was left as it is. This is
	// a report, not an error: the run did what it safely could.
	ActionForeignCommit = "foreign-commit"
)

// Result is what one Publish did, for the run's result JSON.
type Result struct {
	Action    string `json:"action"`
	PRNumber  int    `json:"prNumber,omitempty"`
	PRURL     string `json:"prURL,omitempty"`
	Calls     int    `json:"calls"`     // GitHub calls this Publish made, retries included
	Mutations int    `json:"mutations"` // of which could change state (not GET)
	Note      string `json:"note,omitempty"`
	// Verified and VerificationReason are GitHub's verification of the
	// commit this Publish created (reason e.g. "valid", "unsigned");
	// absent when it created none.
	Verified           *bool  `json:"verified,omitempty"`
	VerificationReason string `json:"verificationReason,omitempty"`
}

// Publisher is what the reconcile function needs from the registry
// repository. Implementations are safe for concurrent use, though the
// caller's lock normally makes calls sequential.
type Publisher interface {
	// Check reports, with at most one GitHub call (none when state is
	// unknown), whether the base branch head still equals state.BaseSHA.
	// The caller uses it only on a clean generation: true means the open
	// PR (if any) is current and the run can be skipped.
	Check(ctx context.Context, state State) (unchanged bool, err error)
	// ReadBase reads the registry file at the head of the base branch.
	ReadBase(ctx context.Context) (Base, error)
	// Publish makes the PR branch hold base plus newContent as one commit
	// on top of base.SHA and the single PR match d; when newContent equals
	// base.Content it closes the PR with a comment and deletes the branch.
	// The returned State is the best knowledge after the call, also when
	// err != nil (a partly done run); the caller should always store it.
	Publish(ctx context.Context, base Base, newContent []byte, d Desired, state State) (Result, State, error)
}

// BlobSHA is the id git gives content as a blob ("git hash-object").
func BlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

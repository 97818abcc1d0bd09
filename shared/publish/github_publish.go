package publish

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/google/go-github/v66/github"
)

// commitTrailer marks the collector's commits; with the author email it
// tells them from anyone else's.
const commitTrailer = "Generated-by: machinery-status-collector"

// Publish brings the PR branch and the single PR in line with base +
// newContent. Calls, with ReadBase's two or three before it:
//
//   - first run: POST trees, POST commits, POST refs, POST pulls, POST
//     labels (5);
//   - changed run: POST trees, GET ref, POST commits + PATCH ref (only if
//     the tree differs), PATCH pull (only if title/body changed) (<= 5),
//     and POST labels when the PR lacks one of them (a failed label call
//     is retried so);
//   - nothing new since the last run (same base, content and text): none;
//   - base already holds newContent: GET pull, GET ref, POST comment,
//     PATCH pull (close), DELETE ref (<= 5; none when nothing is open).
//
// A zero (unknown) state costs a few more calls once: the 422 "already
// exists" answers lead to GET ref / GET commit / list pulls.
//
// Someone else's commit at the branch head is never overwritten or
// deleted: the result is ActionForeignCommit with a nil error, the PR is
// left as it is, and the state is returned unchanged, so the caller may
// mark its generation reconciled and the next change re-checks. The one
// exception is a branch whose PR was merged: its content is in the base,
// so the branch is reused.
func (g *GitHub) Publish(ctx context.Context, base Base, newContent []byte, d Desired, st State) (Result, State, error) {
	return g.PublishFiles(ctx, Head{SHA: base.SHA, TreeSHA: base.TreeSHA}, []Change{{
		Path: g.cfg.Path, BaseBlobSHA: base.BlobSHA, Content: newContent, BlobSHA: BlobSHA(newContent),
	}}, d, st)
}

// PublishFiles is Publish for any number of files: the calls are the
// same, with every differing file an entry of the one tree (inline when
// its content is UTF-8 text, by blob SHA when the content is already in
// the repository, through one POST blobs otherwise). A file over the size
// limit fails the call before any request.
func (g *GitHub) PublishFiles(ctx context.Context, head Head, changes []Change, d Desired, st State) (Result, State, error) {
	if err := checkSizes(changes, g.maxFile); err != nil {
		return Result{}, st, err
	}
	ctx, counter := CountCalls(ctx)
	r := &run{g: g, c: g.client(), st: st, base: head}
	var err error
	if d, r.commitMsg, err = g.cfg.PR.desired(d); err != nil {
		return Result{Action: ActionUnchanged}, st, err
	}
	if !anyDiffers(changes) {
		err = r.close(ctx)
	} else {
		err = r.propose(ctx, changes, d)
	}
	res := r.res
	if res.Action == "" {
		res.Action = r.action()
	}
	if res.PRNumber == 0 {
		res.PRNumber, res.PRURL = r.st.PRNumber, r.st.PRURL
	}
	res.Calls, res.Mutations = counter.Calls(), counter.Mutations()
	return res, r.st, err
}

// run is one Publish in progress; st always holds what is true so far.
type run struct {
	g    *GitHub
	c    *github.Client
	st   State
	base Head
	res  Result

	moved, edited, opened bool
	commitMsg             string // the commit message; "" uses the title
}

func (r *run) action() string {
	switch {
	case r.opened:
		return ActionOpened
	case r.moved || r.edited:
		return ActionUpdated
	}
	return ActionUnchanged
}

func (r *run) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if r.res.Note != "" {
		n = r.res.Note + "; " + n
	}
	r.res.Note = n
}

// propose is Publish when some content differs from the base.
func (r *run) propose(ctx context.Context, changes []Change, d Desired) error {
	body, hash := renderBody(d.Title, d.Body)
	blob := proposalID(changes)
	st := r.st
	// Same base and content as last time: the tree is the one we built then.
	sameTree := st.Known() && st.BaseSHA == r.base.SHA && st.BlobSHA == blob && st.TreeSHA != ""
	if sameTree && st.BranchSHA != "" && st.PRNumber != 0 && st.BodyHash == hash {
		return nil // nothing new: no calls at all
	}
	tree := st.TreeSHA
	if !sameTree {
		var err error
		if tree, err = r.createTree(ctx, changes); err != nil {
			return err
		}
	}
	ok, err := r.syncBranch(ctx, tree, blob, d.Title)
	if err != nil || !ok {
		return err
	}
	return r.syncPR(ctx, d, body, hash)
}

// createTree writes base tree + the differing files. Text goes inline;
// content already in the repository goes by blob SHA; bytes that are
// not UTF-8 would be mangled in JSON, so they go as a base64 blob.
func (r *run) createTree(ctx context.Context, changes []Change) (string, error) {
	cfg := r.g.cfg
	var entries []*github.TreeEntry
	for _, c := range changes {
		if !c.Differs() {
			continue
		}
		entry := &github.TreeEntry{Path: github.String(c.Path), Mode: github.String("100644"), Type: github.String("blob")}
		switch {
		case c.Content == nil:
			entry.SHA = github.String(c.BlobSHA)
		case utf8.Valid(c.Content):
			entry.Content = github.String(string(c.Content))
		default:
			b, _, err := r.c.Git.CreateBlob(ctx, cfg.Owner, cfg.Repo, &github.Blob{
				Content: github.String(base64.StdEncoding.EncodeToString(c.Content)), Encoding: github.String("base64"),
			})
			if err != nil {
				return "", fmt.Errorf("create blob for %s: %w", c.Path, err)
			}
			entry.SHA = b.SHA
		}
		entries = append(entries, entry)
	}
	t, _, err := r.c.Git.CreateTree(ctx, cfg.Owner, cfg.Repo, r.base.TreeSHA, entries)
	if err != nil {
		return "", fmt.Errorf("create tree on %s: %w", short(r.base.TreeSHA), err)
	}
	return t.GetSHA(), nil
}

// syncBranch makes the branch hold tree, reporting false (with the result
// set) when a foreign commit stops it.
func (r *run) syncBranch(ctx context.Context, tree, blob, title string) (bool, error) {
	cfg := r.g.cfg
	if r.st.BranchSHA == "" {
		// No branch known: create it optimistically (the common first run).
		commit, err := r.createCommit(ctx, tree, title)
		if err != nil {
			return false, err
		}
		_, _, err = r.c.Git.CreateRef(ctx, cfg.Owner, cfg.Repo, &github.Reference{
			Ref: github.String("refs/heads/" + cfg.Branch), Object: &github.GitObject{SHA: github.String(commit)},
		})
		if err == nil {
			r.moved = true
			r.record(commit, tree, blob)
			return true, nil
		}
		if !hasMessage(err, "Reference already exists") {
			return false, fmt.Errorf("create branch %s: %w", cfg.Branch, err)
		}
		head, err := r.branchHead(ctx)
		if err != nil {
			return false, err
		}
		return r.moveBranch(ctx, head, tree, blob, commit, title)
	}
	head, err := r.branchHead(ctx)
	if err != nil {
		return false, err
	}
	if head == "" {
		// Deleted since (by a person, or a merged PR's cleanup).
		r.st.BranchSHA, r.st.TreeSHA = "", ""
		return r.syncBranch(ctx, tree, blob, title)
	}
	return r.moveBranch(ctx, head, tree, blob, "", title)
}

// record notes that the branch now holds our commit head with tree.
func (r *run) record(head, tree, blob string) {
	r.st.BranchSHA, r.st.TreeSHA = head, tree
	r.st.BaseSHA, r.st.BlobSHA = r.base.SHA, blob
}

// moveBranch handles an existing branch at head: stop on a foreign head;
// nothing to do when our head already holds tree; else force-move it.
// commit is a ready commit for tree, or "" to make one.
func (r *run) moveBranch(ctx context.Context, head, tree, blob, commit, title string) (bool, error) {
	cfg := r.g.cfg
	ours, headTree, author, err := r.attribute(ctx, head)
	if err != nil {
		return false, err
	}
	if !ours {
		if ours, err = r.mergedPR(ctx); err != nil || !ours {
			return false, r.foreign(head, author, err)
		}
	}
	if headTree == tree {
		r.record(head, tree, blob)
		return true, nil
	}
	if commit == "" {
		if commit, err = r.createCommit(ctx, tree, title); err != nil {
			return false, err
		}
	}
	_, _, err = r.c.Git.UpdateRef(ctx, cfg.Owner, cfg.Repo, &github.Reference{
		Ref: github.String("refs/heads/" + cfg.Branch), Object: &github.GitObject{SHA: github.String(commit)},
	}, true)
	if err != nil {
		return false, fmt.Errorf("move branch %s to %s: %w", cfg.Branch, short(commit), err)
	}
	r.moved = true
	r.record(commit, tree, blob)
	return true, nil
}

// branchHead returns the branch's head commit, "" when it does not exist.
func (r *run) branchHead(ctx context.Context) (string, error) {
	ref, _, err := r.c.Git.GetRef(ctx, r.g.cfg.Owner, r.g.cfg.Repo, "heads/"+r.g.cfg.Branch)
	if isStatus(err, http.StatusNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read branch %s: %w", r.g.cfg.Branch, err)
	}
	return ref.GetObject().GetSHA(), nil
}

// attribute tells whether head is the collector's commit and returns its
// tree and author. The head we recorded last is ours without a call; any
// other head is ours only if authored with our identity and trailer.
func (r *run) attribute(ctx context.Context, head string) (ours bool, tree, author string, err error) {
	if head == r.st.BranchSHA && r.st.TreeSHA != "" {
		return true, r.st.TreeSHA, "", nil
	}
	c, _, err := r.c.Git.GetCommit(ctx, r.g.cfg.Owner, r.g.cfg.Repo, head)
	if err != nil {
		return false, "", "", fmt.Errorf("read branch head %s: %w", short(head), err)
	}
	a := c.GetAuthor()
	ours = r.g.cfg.ownCommit(c)
	return ours, c.GetTree().GetSHA(), fmt.Sprintf("%s <%s>", a.GetName(), a.GetEmail()), nil
}

// mergedPR reports whether the PR we know of was merged: then whatever is
// on its branch is already in the base, and the branch is free to reuse.
func (r *run) mergedPR(ctx context.Context) (bool, error) {
	n := r.st.PRNumber
	if n == 0 {
		return false, nil
	}
	pr, _, err := r.c.PullRequests.Get(ctx, r.g.cfg.Owner, r.g.cfg.Repo, n)
	if err != nil {
		return false, fmt.Errorf("read pull request #%d: %w", n, err)
	}
	if !pr.GetMerged() {
		return false, nil
	}
	r.note("pull request #%d was merged; reusing its branch", n)
	r.st.PRNumber, r.st.PRURL, r.st.BodyHash = 0, "", ""
	return true, nil
}

// foreign reports a head the collector did not make and leaves it: the
// result says so and the state stays as it was. err (from checking for a
// merged PR) is passed through.
func (r *run) foreign(head, author string, err error) error {
	if err != nil {
		return err
	}
	r.res.Action = ActionForeignCommit
	r.note("branch %s head %s was committed by %s, not by the collector: not overwriting it; PR left as it is",
		r.g.cfg.Branch, short(head), author)
	r.g.log.Warn("foreign commit on the PR branch; leaving it", "branch", r.g.cfg.Branch, "head", head, "author", author)
	return nil
}

// createCommit makes the single commit: tree on top of the base head.
func (r *run) createCommit(ctx context.Context, tree, title string) (string, error) {
	cfg := r.g.cfg
	if r.commitMsg != "" {
		title = r.commitMsg
	}
	in := &github.Commit{
		Message: github.String(title + "\n\n" + commitTrailer + "\n"),
		Tree:    &github.Tree{SHA: github.String(tree)},
		Parents: []*github.Commit{{SHA: github.String(r.base.SHA)}},
	}
	if !cfg.usesApp() {
		// With an App, GitHub signs the commit only without these.
		who := &github.CommitAuthor{
			Name: github.String(cfg.AuthorName), Email: github.String(cfg.AuthorEmail),
			Date: &github.Timestamp{Time: r.g.clock.Now()},
		}
		in.Author, in.Committer = who, who
	}
	c, _, err := r.c.Git.CreateCommit(ctx, cfg.Owner, cfg.Repo, in, nil)
	if err != nil {
		return "", fmt.Errorf("create commit of tree %s on %s: %w", short(tree), short(r.base.SHA), err)
	}
	if err := r.verified(c); err != nil {
		return "", err
	}
	return c.GetSHA(), nil
}

// syncPR makes the single PR exist with this title and body.
func (r *run) syncPR(ctx context.Context, d Desired, body, hash string) error {
	cfg := r.g.cfg
	if n := r.st.PRNumber; n != 0 {
		if r.st.BodyHash == hash {
			return nil
		}
		pr, _, err := r.c.PullRequests.Edit(ctx, cfg.Owner, cfg.Repo, n, &github.PullRequest{
			Title: github.String(d.Title), Body: github.String(body),
		})
		if err != nil {
			return fmt.Errorf("update pull request #%d: %w", n, err)
		}
		if pr.GetState() == "open" {
			r.edited, r.st.BodyHash = true, hash
			r.addLabels(ctx, pr, d.Labels)
			r.requestReviews(ctx, pr)
			return nil
		}
		// Closed (or merged) outside the collector: propose afresh.
		r.note("pull request #%d was closed outside the collector; opening a new one", n)
		r.st.PRNumber, r.st.PRURL, r.st.BodyHash = 0, "", ""
	}
	return r.openPR(ctx, d, body, hash)
}

// openPR creates the PR; 422 "already exists" means it is there already
// (state was lost), so it is looked up by head and adopted.
func (r *run) openPR(ctx context.Context, d Desired, body, hash string) error {
	cfg := r.g.cfg
	pr, _, err := r.c.PullRequests.Create(ctx, cfg.Owner, cfg.Repo, &github.NewPullRequest{
		Title: github.String(d.Title), Head: github.String(cfg.Branch), Base: github.String(cfg.BaseBranch),
		Body: github.String(body), Draft: github.Bool(cfg.PR.Draft),
	})
	switch {
	case err == nil:
		r.opened = true
	case hasMessage(err, "already exists"):
		if pr, err = r.findOpenPR(ctx); err != nil {
			return err
		}
		if pr == nil {
			return fmt.Errorf("open pull request %s: GitHub says one exists but lists none", cfg.Branch)
		}
		r.note("adopted existing pull request #%d", pr.GetNumber())
		if markerHash(pr.GetBody()) != hash {
			if pr, _, err = r.c.PullRequests.Edit(ctx, cfg.Owner, cfg.Repo, pr.GetNumber(), &github.PullRequest{
				Title: github.String(d.Title), Body: github.String(body),
			}); err != nil {
				return fmt.Errorf("update pull request #%d: %w", pr.GetNumber(), err)
			}
			r.edited = true
		}
	default:
		return fmt.Errorf("open pull request %s -> %s: %w", cfg.Branch, cfg.BaseBranch, err)
	}
	r.st.PRNumber, r.st.PRURL, r.st.BodyHash = pr.GetNumber(), pr.GetHTMLURL(), hash
	r.addLabels(ctx, pr, d.Labels)
	r.requestReviews(ctx, pr)
	return nil
}

// findOpenPR lists the open PR from the branch into the base, if any.
func (r *run) findOpenPR(ctx context.Context) (*github.PullRequest, error) {
	cfg := r.g.cfg
	list, _, err := r.c.PullRequests.List(ctx, cfg.Owner, cfg.Repo, &github.PullRequestListOptions{
		Head: cfg.Owner + ":" + cfg.Branch, Base: cfg.BaseBranch, State: "open",
	})
	if err != nil {
		return nil, fmt.Errorf("list pull requests from %s: %w", cfg.Branch, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list[0], nil
}

// addLabels adds the labels pr lacks in their own call, and makes no call
// when it has them all. It runs whenever a run opens, adopts or edits the
// PR, so a label that could not be added (missing permission, say) is
// tried again by the next changed run; a failure is logged and noted,
// never fatal. The PR GitHub returns lists its labels, so checking costs
// no call.
func (r *run) addLabels(ctx context.Context, pr *github.PullRequest, labels []string) {
	if labels == nil {
		labels = r.g.cfg.Labels
	}
	var missing []string
	for _, l := range labels {
		if !slices.ContainsFunc(pr.Labels, func(have *github.Label) bool { return have.GetName() == l }) {
			missing = append(missing, l)
		}
	}
	if len(missing) == 0 {
		return
	}
	number := pr.GetNumber()
	if _, _, err := r.c.Issues.AddLabelsToIssue(ctx, r.g.cfg.Owner, r.g.cfg.Repo, number, missing); err != nil {
		r.g.log.Warn("could not label pull request", "pr", number, "labels", missing, "error", err.Error())
		r.note("labels not added: %v", err)
	}
}

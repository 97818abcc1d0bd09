package publish

import (
	"fmt"
	"strings"

	"github.com/google/go-github/v66/github"
)

// ownCommit tells the collector's commits from anyone else's. Every one
// carries the trailer. With token auth the collector also sets its own
// author; with App auth it sets none (so that GitHub signs the commit),
// and the commit is the App's bot's, verified by GitHub, which nobody
// but the App's token can produce.
func (c Config) ownCommit(commit *github.Commit) bool {
	if !strings.Contains(commit.GetMessage(), commitTrailer) {
		return false
	}
	if !c.usesApp() {
		return commit.GetAuthor().GetEmail() == c.AuthorEmail
	}
	return strings.HasSuffix(commit.GetAuthor().GetName(), "[bot]") && commit.GetVerification().GetVerified()
}

// verified records GitHub's verification of the commit just made in the
// result and, with REGISTRY_REQUIRE_VERIFIED, fails on an unverified one
// before any branch points at it.
func (r *run) verified(c *github.Commit) error {
	v := c.GetVerification()
	ok := v.GetVerified()
	r.res.Verified, r.res.VerificationReason = &ok, v.GetReason()
	if ok || !r.g.cfg.PR.RequireVerified {
		return nil
	}
	why := "GitHub signs only commits created with GitHub App auth (GITHUB_APP_*) and no custom author; " +
		"a GITHUB_TOKEN (personal access token) cannot give verified commits"
	if r.g.cfg.usesApp() {
		why = "the App's commit came back unsigned"
	}
	return fmt.Errorf("commit %s is not verified (GitHub: %q) and REGISTRY_REQUIRE_VERIFIED is set: %s; nothing was pushed",
		short(c.GetSHA()), v.GetReason(), why)
}

// desired makes the title and the commit message from the templates
// when d carries template fields; otherwise both are d.Title.
func (c PRConfig) desired(d Desired) (Desired, string, error) {
	if d.Fields == nil {
		return d, "", nil
	}
	title, commit, err := c.Texts(*d.Fields)
	if err != nil {
		return d, "", err
	}
	d.Title = title
	return d, commit, nil
}

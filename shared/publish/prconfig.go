package publish

import (
	"fmt"
	"strings"
)

// Auto-merge methods (REGISTRY_AUTOMERGE), GitHub's merge_method values.
const (
	MergeSquash = "squash"
	MergeCommit = "merge"
	MergeRebase = "rebase"
)

// PRConfig is how the pull request fits the registry repository's
// conventions and protection rules.
type PRConfig struct {
	// RequireVerified fails a run whose commit GitHub did not verify
	// (REGISTRY_REQUIRE_VERIFIED).
	RequireVerified bool
	// Reviewers, TeamReviewers and Assignees are requested when the PR
	// is opened (REGISTRY_PR_REVIEWERS, REGISTRY_PR_TEAM_REVIEWERS,
	// REGISTRY_PR_ASSIGNEES; comma-separated logins or team slugs).
	Reviewers     []string
	TeamReviewers []string
	Assignees     []string
	// AutoMerge merges a current, mergeable, green PR with this method
	// (REGISTRY_AUTOMERGE); "" leaves merging to people.
	AutoMerge string
	// TitleTemplate and CommitTemplate are text/template texts over
	// TemplateFields (REGISTRY_PR_TITLE, REGISTRY_COMMIT_MESSAGE); ""
	// uses DefaultTitleTemplate.
	TitleTemplate  string
	CommitTemplate string
	// Draft opens the PR as a draft (REGISTRY_PR_DRAFT).
	Draft bool

	errs []error // from parsing the environment
}

// prConfigFromEnv reads PRConfig; problems are reported by validate.
func prConfigFromEnv(getenv func(string) string) PRConfig {
	c := PRConfig{
		Reviewers:      splitList(getenv("REGISTRY_PR_REVIEWERS")),
		TeamReviewers:  splitList(getenv("REGISTRY_PR_TEAM_REVIEWERS")),
		Assignees:      splitList(getenv("REGISTRY_PR_ASSIGNEES")),
		AutoMerge:      strings.ToLower(strings.TrimSpace(getenv("REGISTRY_AUTOMERGE"))),
		TitleTemplate:  getenv("REGISTRY_PR_TITLE"),
		CommitTemplate: getenv("REGISTRY_COMMIT_MESSAGE"),
	}
	flag := func(name string, dst *bool) {
		switch v := strings.ToLower(strings.TrimSpace(getenv(name))); v {
		case "", "false", "0", "no":
		case "true", "1", "yes":
			*dst = true
		default:
			c.errs = append(c.errs, fmt.Errorf("%s must be true or false, got %q", name, v))
		}
	}
	flag("REGISTRY_REQUIRE_VERIFIED", &c.RequireVerified)
	flag("REGISTRY_PR_DRAFT", &c.Draft)
	return c
}

// validate reports every problem of the PR settings.
func (c PRConfig) validate() []error {
	errs := append([]error(nil), c.errs...)
	switch c.AutoMerge {
	case "", MergeSquash, MergeCommit, MergeRebase:
	default:
		errs = append(errs, fmt.Errorf("REGISTRY_AUTOMERGE must be squash, merge or rebase, got %q", c.AutoMerge))
	}
	for _, t := range []struct{ name, text string }{{"REGISTRY_PR_TITLE", c.TitleTemplate}, {"REGISTRY_COMMIT_MESSAGE", c.CommitTemplate}} {
		if t.text == "" {
			continue
		}
		if _, err := renderTemplate(t.name, t.text, exampleFields); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

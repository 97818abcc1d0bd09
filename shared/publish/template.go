package publish

import (
	"fmt"
	"strings"
	"text/template"
)

// DefaultTitleTemplate is the PR title and commit subject unless
// REGISTRY_PR_TITLE or REGISTRY_COMMIT_MESSAGE say otherwise: a
// conventional commit, which commitlint's default rules accept.
const DefaultTitleTemplate = `chore(registry): update claim status ({{.Changed}} changed{{if .Deleted}}, {{.Deleted}} deleted{{end}}{{if .Missing}}, {{.Missing}} not in registry{{end}})`

// MaxTitleChars is GitHub's limit on a pull request title.
const MaxTitleChars = 256

// TemplateFields are what title and commit templates can use, e.g.
// "{{.Path}}: {{.Changed}} changed".
type TemplateFields struct {
	Path     string // the registry file
	Changed  int    // claims whose status changed
	NotReady int    // of those and the missing ones, how many are not ready
	Deleted  int    // claims deleted from their cluster
	Missing  int    // claims seen but not in the registry
	Clusters int    // clusters with at least one of the above
}

// exampleFields check a template when the configuration is read.
var exampleFields = TemplateFields{Path: "registry.yaml", Changed: 3, NotReady: 1, Deleted: 1, Missing: 1, Clusters: 2}

// renderTemplate executes text over f; name (the variable) is in errors.
func renderTemplate(name, text string, f TemplateFields) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, f); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return b.String(), nil
}

// Texts returns the PR title (one line, at most MaxTitleChars characters)
// and the commit message for f, from the configured templates or
// DefaultTitleTemplate; the commit message defaults to the title.
// Templates are checked when the configuration is read, so an error here
// means one failed on these fields.
func (c PRConfig) Texts(f TemplateFields) (title, commit string, err error) {
	tt := c.TitleTemplate
	if tt == "" {
		tt = DefaultTitleTemplate
	}
	if title, err = renderTemplate("REGISTRY_PR_TITLE", tt, f); err != nil {
		return "", "", err
	}
	title = oneLine(title, MaxTitleChars)
	if c.CommitTemplate == "" {
		return title, title, nil
	}
	if commit, err = renderTemplate("REGISTRY_COMMIT_MESSAGE", c.CommitTemplate, f); err != nil {
		return "", "", err
	}
	return title, strings.TrimSpace(commit), nil
}

// oneLine joins s onto one line and cuts it to n characters, ending a
// cut with "…".
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

package reconcile

import (
	"fmt"
	"strings"

	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
)

// maxBodyBytes keeps the PR body under GitHub's 65,536-character limit,
// with room for the publisher's hidden marker.
const maxBodyBytes = 60000

// PRText renders the PR title and body for a registry report: a table of
// changed claims, the claims not in the registry and the claims deleted
// from their cluster. Rows that do not fit are counted in a note. The
// title is stable so the PR is recognisable across runs.
func PRText(path string, r registry.Report) (title, body string) {
	title = "Update claim status in " + path
	var b strings.Builder
	fmt.Fprintf(&b, "Claim status collected by machinery-status-collector from its clusters' agents, written into `%s`.\n", path)
	section := func(heading string, header string, rows []string) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n### %s (%d)\n\n%s\n", heading, len(rows), header)
		for i, row := range rows {
			if b.Len()+len(row) > maxBodyBytes-200 {
				fmt.Fprintf(&b, "\n_… and %d more not shown (the PR body has a size limit); the diff has them all._\n", len(rows)-i)
				return
			}
			b.WriteString(row)
		}
	}
	var changed, missing, deleted []string
	for _, c := range r.Changed {
		changed = append(changed, fmt.Sprintf("| %s | %s | %s | %s | %s |\n", cell(c.Cluster), cell(c.ClaimRef), cell(c.Kind), cell(c.Old), cell(c.New)))
	}
	for _, m := range r.Missing {
		added := "no"
		if m.Added {
			added = "yes"
		}
		missing = append(missing, fmt.Sprintf("| %s | %s | %s | %s | %s |\n", cell(m.Cluster), cell(m.ClaimRef), cell(m.Kind), cell(m.Ready+": "+m.StatusMessage), added))
	}
	for _, c := range r.Deleted {
		deleted = append(deleted, fmt.Sprintf("| %s | %s | %s | %s |\n", cell(c.Cluster), cell(c.ClaimRef), cell(c.Kind), cell(c.Old)))
	}
	section("Changed", "| Cluster | Claim | Kind | Old | New |\n|---|---|---|---|---|", changed)
	section("Deleted from their cluster", "| Cluster | Claim | Kind | Last status |\n|---|---|---|---|", deleted)
	section("Seen but not in the registry", "| Cluster | Claim | Kind | Status | Added |\n|---|---|---|---|---|", missing)
	if len(changed)+len(deleted)+len(missing) == 0 {
		b.WriteString("\nNo claim status differs from the base branch.\n")
	}
	return title, b.String()
}

// maxCellBytes bounds one table cell before escaping.
const maxCellBytes = 300

// cell renders untrusted text as one inert table cell (see publish.Cell):
// a status cannot hide rows, mention, reference or close anything.
func cell(s string) string {
	return publish.Cell(s, maxCellBytes)
}

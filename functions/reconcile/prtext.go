package reconcile

import (
	"fmt"
	"strings"

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
	if !writeTables(&b, r, "###", maxBodyBytes-200) {
		b.WriteString("\nNo claim status differs from the base branch.\n")
	}
	return title, b.String()
}

// writeTables appends the report's tables (changed, deleted, missing)
// under headings of the given level, leaving out rows once b would pass
// limit bytes; it reports whether there was any row.
func writeTables(b *strings.Builder, r registry.Report, level string, limit int) bool {
	section := func(heading string, header string, rows []string) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(b, "\n%s %s (%d)\n\n%s\n", level, heading, len(rows), header)
		for i, row := range rows {
			if b.Len()+len(row) > limit {
				fmt.Fprintf(b, "\n_… and %d more not shown (the PR body has a size limit); the diff has them all._\n", len(rows)-i)
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
	return len(changed)+len(deleted)+len(missing) > 0
}

// maxSectionBytes bounds one file's part of a sharded PR body (and of the
// memory kept for it between runs).
const maxSectionBytes = 8000

// FileSection renders one file's part of a sharded PR body: its path,
// whether the file is new, and its tables; "" when nothing changed.
func FileSection(path string, r registry.Report, created bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### `%s`", path)
	if created {
		b.WriteString(" (new file)")
	}
	b.WriteString("\n")
	if !writeTables(&b, r, "####", maxSectionBytes) {
		return ""
	}
	return b.String()
}

// ShardedPRText renders the PR title and body for a sharded registry: the
// pattern, then each file's section (from FileSection) in path order;
// sections that do not fit the body limit are counted in a note.
func ShardedPRText(pattern string, sections []string) (title, body string) {
	title = "Update claim status in " + pattern
	var b strings.Builder
	fmt.Fprintf(&b, "Claim status collected by machinery-status-collector from its clusters' agents, written into the registry files `%s`: %d with changes, grouped by file below.\n", pattern, len(sections))
	for i, s := range sections {
		if b.Len()+len(s) > maxBodyBytes-200 {
			fmt.Fprintf(&b, "\n_… and %d more files not shown (the PR body has a size limit); the diff has them all._\n", len(sections)-i)
			break
		}
		b.WriteString(s)
	}
	if len(sections) == 0 {
		b.WriteString("\nNo claim status differs from the base branch.\n")
	}
	return title, b.String()
}

// cell makes s safe inside a markdown table cell.
func cell(s string) string {
	if s == "" {
		return "–"
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", "<br>")
	if len(s) > 300 {
		s = s[:297] + "…"
	}
	return s
}

package reconcile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
)

// maxBodyBytes keeps the PR body under GitHub's 65,536-character limit,
// with room for the publisher's hidden marker.
const maxBodyBytes = 60000

// PRText renders the PR title and body for a registry report: a table of
// changed claims, the claims not in the registry and the claims deleted
// from their cluster, and notes on entries matched or left in a way the
// file does not make obvious. Rows that do not fit are counted in a note.
// The title is the default template's (see defaultTitle).
func PRText(path string, r registry.Report) (title, body string) {
	title = defaultTitle(PRFields(path, r))
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
		changed = append(changed, fmt.Sprintf("| %s | %s | %s | %s | %s |\n", cell(c.Cluster), cell(c.ClaimRef), cell(c.Kind), cell(c.Old), cell(changeText(c))))
	}
	for _, m := range r.Missing {
		added := "no"
		if m.Added {
			added = "yes"
		}
		missing = append(missing, fmt.Sprintf("| %s | %s | %s | %s | %s |\n", cell(m.Cluster), cell(m.ClaimRef), cell(m.Kind), cell(statusText(m)), added))
	}
	summarise(b, r)
	for _, c := range r.Deleted {
		deleted = append(deleted, fmt.Sprintf("| %s | %s | %s | %s |\n", cell(c.Cluster), cell(c.ClaimRef), cell(c.Kind), cell(c.Old)))
	}
	section("Changed", "| Cluster | Claim | Kind | Old | New |\n|---|---|---|---|---|", changed)
	section("Deleted from their cluster", "| Cluster | Claim | Kind | Last status |\n|---|---|---|---|", deleted)
	section("Seen but not in the registry", "| Cluster | Claim | Kind | Status | Added |\n|---|---|---|---|---|", missing)
	var notes []string
	for _, n := range r.Notes {
		notes = append(notes, fmt.Sprintf("| %s | %s | %s | %d | %s |\n", cell(n.Cluster), cell(n.ClaimRef), cell(n.Kind), n.Line, cell(n.Text)))
	}
	section("Notes", "| Cluster | Claim | Kind | Line | Note |\n|---|---|---|---|---|", notes)
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

// ShardedPRText renders the PR title and body for a sharded registry
// whose pattern and counts over all files are f: the pattern, then each
// file's section (from FileSection) in path order; sections that do not
// fit the body limit are counted in a note. The title is the default
// template's (see defaultTitle).
func ShardedPRText(f publish.TemplateFields, sections []string) (title, body string) {
	pattern := f.Path
	title = defaultTitle(f)
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

// defaultTitle is the title publish.DefaultTitleTemplate gives f. The
// publishers render the configured REGISTRY_PR_TITLE over the same fields
// (publish.Desired.Fields), so this is the title users see unless they
// set their own; it cannot fail, the template being fixed and valid.
func defaultTitle(f publish.TemplateFields) string {
	title, _, _ := publish.PRConfig{}.Texts(f)
	return title
}

// maxCellBytes bounds one table cell before escaping.
const maxCellBytes = 300

// cell renders untrusted text as one inert table cell (see publish.Cell):
// a status cannot hide rows, mention, reference or close anything.
func cell(s string) string {
	return publish.Cell(s, maxCellBytes)
}

// statusText is a record's status for a cell: the ready state, with the
// reason beside it when the claim is not ready, and the message.
func statusText(m registry.MissingClaim) string {
	ready := m.Ready
	if m.Reason != "" && ready != "" && ready != "True" {
		ready += " (" + m.Reason + ")"
	}
	if ready == "" {
		return m.StatusMessage
	}
	return ready + ": " + m.StatusMessage
}

// maxSummaryClusters bounds the per-cluster summary; the tables and the
// diff hold the rest.
const maxSummaryClusters = 50

// clusterCounts is one cluster's line of the summary.
type clusterCounts struct{ changed, notReady, deleted, missing int }

// summarise writes one line per cluster (changed, not ready, deleted,
// not in the registry) above the tables, in cluster order, at most
// maxSummaryClusters of them.
func summarise(b *strings.Builder, r registry.Report) {
	counts := map[string]*clusterCounts{}
	var order []string
	at := func(cluster string) *clusterCounts {
		c := counts[cluster]
		if c == nil {
			c = &clusterCounts{}
			counts[cluster] = c
			order = append(order, cluster)
		}
		return c
	}
	for _, c := range r.Changed {
		n := at(c.Cluster)
		n.changed++
		if notReady(c.New) {
			n.notReady++
		}
	}
	for _, c := range r.Deleted {
		at(c.Cluster).deleted++
	}
	for _, m := range r.Missing {
		n := at(m.Cluster)
		n.missing++
		if m.Ready != "" && m.Ready != "True" {
			n.notReady++
		}
	}
	if len(order) == 0 {
		return
	}
	slices.Sort(order)
	b.WriteString("\n")
	for i, cluster := range order {
		if i == maxSummaryClusters {
			fmt.Fprintf(b, "- … and %d more clusters\n", len(order)-i)
			break
		}
		c := counts[cluster]
		var parts []string
		for _, p := range []struct {
			n    int
			what string
		}{{c.changed, "changed"}, {c.notReady, "not ready"}, {c.deleted, "deleted"}, {c.missing, "not in the registry"}} {
			if p.n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
			}
		}
		fmt.Fprintf(b, "- **%s**: %s\n", cell(cluster), strings.Join(parts, ", "))
	}
}

// notReady reports whether a change's new status text ("False: …",
// "Unknown: …") is not ready.
func notReady(status string) bool { return readyWord(status) != "" }

// readyWord is "False" or "Unknown" when a status text (see
// registry.Change) starts with that ready state, else "".
func readyWord(status string) string {
	for _, w := range []string{"False", "Unknown"} {
		if status == w || strings.HasPrefix(status, w+": ") {
			return w
		}
	}
	return ""
}

// changeText is a change's new status for a cell, with the reason beside
// a not-ready state as statusText puts it: "False (ReconcileError): …".
func changeText(c registry.Change) string {
	w := readyWord(c.New)
	if w == "" || c.Reason == "" {
		return c.New
	}
	return w + " (" + c.Reason + ")" + c.New[len(w):]
}

// PRFields are the template fields (REGISTRY_PR_TITLE,
// REGISTRY_COMMIT_MESSAGE) of a report.
func PRFields(path string, r registry.Report) publish.TemplateFields {
	f := publish.TemplateFields{Path: path, Changed: len(r.Changed), Deleted: len(r.Deleted), Missing: len(r.Missing)}
	var clusters []string
	f.NotReady, clusters = reportClusters(r)
	f.Clusters = len(clusters)
	return f
}

// reportClusters counts a report's not-ready claims (changed or missing)
// and lists, sorted, the clusters with anything in it.
func reportClusters(r registry.Report) (notReadyClaims int, clusters []string) {
	seen := map[string]bool{}
	for _, c := range r.Changed {
		seen[c.Cluster] = true
		if notReady(c.New) {
			notReadyClaims++
		}
	}
	for _, c := range r.Deleted {
		seen[c.Cluster] = true
	}
	for _, m := range r.Missing {
		seen[m.Cluster] = true
		if m.Ready != "" && m.Ready != "True" {
			notReadyClaims++
		}
	}
	for c := range seen {
		clusters = append(clusters, c)
	}
	slices.Sort(clusters)
	return notReadyClaims, clusters
}

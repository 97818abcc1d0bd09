package reconcile

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// hostile are status messages that try to steer the PR body, each with
// the text a reviewer must see for it (word joiners removed).
var hostile = []struct{ msg, visible string }{
	{"<!-- ", "<!--"},
	{"-->", "-->"},
	{"<script>alert(1)</script>", "<script>alert(1)</script>"},
	{"<details><summary>open me", "<details><summary>open me"},
	{"@octocat please look, cc @org/team", "@octocat please look, cc @org/team"},
	{"Fixes #1", "Fixes #1"},
	{"closes other/repo#2", "closes other/repo#2"},
	{"resolves: https://github.com/o/r/issues/3", "resolves: https://github.com/o/r/issues/3"},
	{"GH-12 and #34", "GH-12 and #34"},
	{"a | b | c", "a | b | c"},
	{"line\n| x | y |\n\n# heading\n", "line | x | y | # heading"},
	{"```\ncode", "``` code"},
	{"\x1b[31mred\u202eevil\u2066x\u2069\x00\u0085\x7f", "\uFFFD[31mred\uFFFDevil\uFFFDx\uFFFD\uFFFD\uFFFD\uFFFD"},
	{"&#64;admin &lt;!-- ", "&#64;admin &lt;!--"},
	{"[click](javascript:alert(1)) ![p](http://tracker/p.png)", "[click](javascript:alert(1)) ![p](http://tracker/p.png)"},
	{"<https://evil.example>", "<https://evil.example>"},
	{`trailing \`, `trailing \`},
	{`\|`, `\|`},
	{"*not bold* _nor this_ ~~nor this~~", "*not bold* _nor this_ ~~nor this~~"},
	{strings.Repeat("é", 200), strings.Repeat("é", 148) + "…"},
	{"Available: 3 replicas ready", "Available: 3 replicas ready"},
}

// TestPRTextHostileMessagesRenderInert renders the body of a report full
// of hostile messages as GitHub-flavoured markdown with a real renderer:
// every claim is exactly one row whose cell shows the message as text,
// and nothing becomes a comment, tag, mention, reference or closing
// keyword.
func TestPRTextHostileMessagesRenderInert(t *testing.T) {
	var r registry.Report
	for i, h := range hostile {
		ref := fmt.Sprintf("ns/claim-%02d", i)
		r.Changed = append(r.Changed, registry.Change{Cluster: "c1", ClaimRef: ref, Kind: "K.g", Old: "True: ok", New: h.msg})
		r.Deleted = append(r.Deleted, registry.Change{Cluster: "c2", ClaimRef: ref, Kind: "K.g", Old: h.msg, New: "deleted"})
		r.Missing = append(r.Missing, registry.MissingClaim{Record: status.Record{Cluster: "c3", ClaimRef: ref, Kind: "K.g", StatusMessage: h.msg}})
	}
	_, body := PRText("registry.yaml", r)
	var out bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	rendered := out.String()

	rows := regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(rendered, -1)
	const headers = 3
	if len(rows) != headers+3*len(hostile) {
		t.Fatalf("%d table rows, want %d headers + %d claims:\n%s", len(rows), headers, 3*len(hostile), rendered)
	}
	td := regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
	tag := regexp.MustCompile(`<[^>]*>`)
	var cells [][]string
	for _, row := range rows {
		var texts []string
		for _, c := range td.FindAllStringSubmatch(row[1], -1) {
			texts = append(texts, html.UnescapeString(tag.ReplaceAllString(c[1], "")))
		}
		cells = append(cells, texts)
	}
	// Sections come in the order Changed, Deleted, Missing, each a header
	// row then one row per claim; the message is in column 4, 3 and 3.
	for s, col := range []int{4, 3, 3} {
		first := s*(len(hostile)+1) + 1
		for i, h := range hostile {
			row := cells[first+i]
			if want := []int{5, 4, 5}[s]; len(row) != want {
				t.Fatalf("section %d row %d has %d cells, want %d: %q", s, i, len(row), want, row)
			}
			got := strings.ReplaceAll(row[col], "\u2060", "")
			if got != h.visible {
				t.Errorf("section %d: message %q shows as %q, want %q", s, h.msg, got, h.visible)
			}
		}
	}

	if strings.Contains(rendered, "<!--") || strings.Contains(rendered, "raw HTML omitted") {
		t.Errorf("rendered body holds a comment or raw HTML:\n%s", rendered)
	}
	var table strings.Builder
	for _, row := range rows {
		table.WriteString(row[1])
	}
	// Inside the rows only cells and the one autolinked URL may be markup.
	for _, m := range tag.FindAllString(table.String(), -1) {
		if !regexp.MustCompile(`^</?(td|th|a)\b`).MatchString(m) {
			t.Errorf("table row holds markup %s", m)
		}
	}
	for _, link := range regexp.MustCompile(`<a [^>]*>`).FindAllString(rendered, -1) {
		if !strings.HasPrefix(link, `<a href="https://github.com/o/r/issues/3"`) {
			t.Errorf("unexpected link %s", link)
		}
	}
	text := html.UnescapeString(tag.ReplaceAllString(rendered, ""))
	for name, re := range map[string]*regexp.Regexp{
		"mention":        regexp.MustCompile(`(^|[^\w])@[A-Za-z0-9]`),
		"reference":      regexp.MustCompile(`#[0-9]|(?i)\bgh-[0-9]`),
		"closing":        regexp.MustCompile(`(?i)\b(close[sd]?|fix(e[sd])?|resolve[sd]?):?\s+(#|gh-|https?://|[\w.-]+/[\w.-]+#)`),
		"control / bidi": regexp.MustCompile("[\x00-\x09\x0b-\x1f\x7f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"),
	} {
		if m := re.FindString(text); m != "" {
			t.Errorf("rendered text has a %s: %q", name, m)
		}
	}
}

// TestPRTextSummaryAndFields: one summary line per cluster above the
// tables, the reason beside a not-ready status, and the template fields.
func TestPRTextSummaryAndFields(t *testing.T) {
	r := registry.Report{
		Changed: []registry.Change{
			{Cluster: "prod", ClaimRef: "db/pg", Kind: "PostgreSQL.db.example.org", Old: "True: Available", New: "False: disk full", Reason: "ReconcileError"},
			{Cluster: "prod", ClaimRef: "db/pg2", Kind: "PostgreSQL.db.example.org", Old: "False: x", New: "True: Available"},
		},
		Deleted: []registry.Change{{Cluster: "dev", ClaimRef: "a/b", Kind: "K.g", Old: "True: ok", New: "deleted"}},
		Missing: []registry.MissingClaim{{Record: status.Record{Cluster: "dev", ClaimRef: "a/c", Kind: "K.g", Ready: "False", Reason: "ReconcileError", StatusMessage: "cannot connect"}}},
	}
	title, body := PRText("reg.yaml", r)
	if want := "chore(registry): update claim status (2 changed, 1 deleted, 1 not in registry)"; title != want {
		t.Errorf("title %q, want %q", title, want)
	}
	if title, _ := ShardedPRText(PRFields("reg/{cluster}.yaml", r), nil); title != "chore(registry): update claim status (2 changed, 1 deleted, 1 not in registry)" {
		t.Errorf("sharded title %q", title)
	}
	want := "Claim status collected by machinery-status-collector from its clusters' agents, written into `reg.yaml`.\n" +
		"\n- **dev**: 1 not ready, 1 deleted, 1 not in the registry\n- **prod**: 2 changed, 1 not ready\n" +
		"\n### Changed (2)\n\n| Cluster | Claim | Kind | Old | New |\n|---|---|---|---|---|\n" +
		"| prod | db/pg | PostgreSQL.db.example.org | True: Available | False (ReconcileError): disk full |\n" +
		"| prod | db/pg2 | PostgreSQL.db.example.org | False: x | True: Available |\n" +
		"\n### Deleted from their cluster (1)\n\n| Cluster | Claim | Kind | Last status |\n|---|---|---|---|\n| dev | a/b | K.g | True: ok |\n" +
		"\n### Seen but not in the registry (1)\n\n| Cluster | Claim | Kind | Status | Added |\n|---|---|---|---|---|\n" +
		"| dev | a/c | K.g | False (ReconcileError): cannot connect | no |\n"
	if body != want {
		t.Errorf("body =\n%s\nwant\n%s", body, want)
	}
	f := PRFields("reg.yaml", r)
	if f != (publish.TemplateFields{Path: "reg.yaml", Changed: 2, NotReady: 2, Deleted: 1, Missing: 1, Clusters: 2}) {
		t.Errorf("fields %+v", f)
	}
}

// TestChangeText: the reason goes beside a not-ready new status only.
func TestChangeText(t *testing.T) {
	for _, tc := range []struct{ new, reason, want string }{
		{"False: disk full", "ReconcileError", "False (ReconcileError): disk full"},
		{"Unknown: waiting", "Creating", "Unknown (Creating): waiting"},
		{"False", "ReconcileError", "False (ReconcileError)"},
		{"True: Available", "Available", "True: Available"},
		{"False: disk full", "", "False: disk full"},
		{"Falsely reported", "X", "Falsely reported"},
		{"deleted", "X", "deleted"},
	} {
		if got := changeText(registry.Change{New: tc.new, Reason: tc.reason}); got != tc.want {
			t.Errorf("changeText(%q, %q) = %q, want %q", tc.new, tc.reason, got, tc.want)
		}
	}
	m := registry.MissingClaim{Record: status.Record{Reason: "X", StatusMessage: "no ready state"}}
	if got := statusText(m); got != "no ready state" {
		t.Errorf("statusText without a ready state = %q", got)
	}
}

// TestPRTextSummaryIsBounded: a fleet of clusters gets a bounded summary.
func TestPRTextSummaryIsBounded(t *testing.T) {
	var r registry.Report
	for i := range 500 {
		r.Deleted = append(r.Deleted, registry.Change{Cluster: fmt.Sprintf("c%03d", i), ClaimRef: "a/b", Kind: "K.g", Old: "True: ok"})
	}
	_, body := PRText("reg.yaml", r)
	if n := strings.Count(body, "\n- **"); n != maxSummaryClusters || !strings.Contains(body, "- … and 450 more clusters\n") {
		t.Fatalf("%d summary lines", n)
	}
}

// Notes get their own table; a report without notes has no such section.
func TestPRTextNotes(t *testing.T) {
	rep := registry.Report{Notes: []registry.Note{{Cluster: "cluster-01", ClaimRef: "default/my-db", Line: 3,
		Text: `matched by its namespace and name; its claimRef "postgresqls.2.2.2/my-db" is left as written`}}}
	_, body := PRText("registry.yaml", rep)
	want := "\n### Notes (1)\n\n| Cluster | Claim | Kind | Line | Note |\n|---|---|---|---|---|\n" +
		"| cluster-01 | default/my-db | – | 3 | matched by its namespace and name; its claimRef \"postgresqls.2.2.2/my-db\" is left as written |\n"
	if !strings.Contains(body, want) {
		t.Errorf("body:\n%s\nwant section:\n%s", body, want)
	}
	if _, body := PRText("registry.yaml", registry.Report{}); strings.Contains(body, "Notes") {
		t.Errorf("empty report has notes:\n%s", body)
	}
}

// TestFileSectionShowsReason: a sharded body's file section renders its
// tables as the single-file body does, reason beside a not-ready status
// included.
func TestFileSectionShowsReason(t *testing.T) {
	r := registry.Report{Changed: []registry.Change{
		{Cluster: "prod", ClaimRef: "db/pg", Kind: "K.g", Old: "True: ok", New: "False: disk full", Reason: "ReconcileError"},
	}}
	got := FileSection("clusters/prod.yaml", r, true)
	want := "\n### `clusters/prod.yaml` (new file)\n" +
		"\n- **prod**: 1 changed, 1 not ready\n" +
		"\n#### Changed (1)\n\n| Cluster | Claim | Kind | Old | New |\n|---|---|---|---|---|\n" +
		"| prod | db/pg | K.g | True: ok | False (ReconcileError): disk full |\n"
	if got != want {
		t.Errorf("section =\n%s\nwant\n%s", got, want)
	}
}

// TestPRTextReasonFromApply: the reason of a record travels through
// registry.Apply (both layouts) into the Changed table.
func TestPRTextReasonFromApply(t *testing.T) {
	rec := status.Record{Cluster: "prod", ClaimRef: "db/pg", Ready: "False", Reason: "ReconcileError", StatusMessage: "disk full"}
	for name, src := range map[string]string{
		"clusters":      "prod:\n  - name: pg\n    namespace: db\n    ready: \"True\"\n    statusMessage: ok\n",
		"claimregistry": "apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\nclaims:\n  - name: pg\n    namespace: db\n    clusters:\n      prod:\n        ready: \"True\"\n        statusMessage: ok\n",
	} {
		_, rep, err := registry.Apply([]byte(src), []status.Record{rec}, registry.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, body := PRText("reg.yaml", rep)
		if want := "| prod | db/pg | – | True: ok | False (ReconcileError): disk full |\n"; !strings.Contains(body, want) {
			t.Errorf("%s: body\n%s\nlacks row\n%s", name, body, want)
		}
	}
}

// TestTitleIsTheTemplateEverywhere: the title a user sees is the
// REGISTRY_PR_TITLE template's (or the default's), for one file and a
// sharded registry, on GitHub (the PR's title) and locally (PR.md's
// heading).
func TestTitleIsTheTemplateEverywhere(t *testing.T) {
	for _, layout := range []string{"single", "sharded"} {
		for _, where := range []string{"github", "local"} {
			for _, tmpl := range []string{"", "{{.Path}}: {{.Changed}} changed"} {
				name := "default"
				if tmpl != "" {
					name = "custom"
				}
				t.Run(layout+"/"+where+"/"+name, func(t *testing.T) {
					e, path, title := titleEnv(t, layout == "sharded", where == "local", tmpl)
					want := "chore(registry): update claim status (1 changed)"
					if tmpl != "" {
						want = path + ": 1 changed"
					}
					if res := e.run(); res.Outcome != publish.ActionOpened || res.Changed != 1 {
						t.Fatalf("run %+v", res)
					}
					if got := title(); got != want {
						t.Errorf("title %q, want %q", got, want)
					}
				})
			}
		}
	}
}

// titleEnv is an env whose registry (one file or a {cluster} pattern,
// on the GitHub fake or on disk) has one claim of cluster-a changed in
// the store; it returns REGISTRY_FILE_PATH and how to read the title.
func titleEnv(t *testing.T, sharded, local bool, tmpl string) (*env, string, func() string) {
	file, path := "registry/cluster-a.yaml", "registry/{cluster}.yaml"
	if !sharded {
		file, path = regPath, regPath
	}
	content := shardFile("cluster-a", 2)
	e := &env{t: t, logs: &servertest.Buffer{}}
	var title func() string
	if local {
		dir := t.TempDir()
		file, path = filepath.Join(dir, file), filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "pr")
		e.vars = map[string]string{"REGISTRY_LOCAL_PR_DIR": out}
		title = func() string {
			pr, err := os.ReadFile(filepath.Join(out, publish.PRFileName))
			first, _, _ := strings.Cut(string(pr), "\n")
			if err != nil || !strings.HasPrefix(first, "# ") {
				t.Fatalf("PR.md (%v): %q", err, pr)
			}
			return first[2:]
		}
	} else {
		e.gh = githubfake.New(t, githubfake.WithToken(ghToken))
		e.repo = e.gh.CreateRepo("platform", "registry", map[string]string{file: content})
		e.vars = map[string]string{"GITHUB_TOKEN": ghToken, "GITHUB_API_URL": e.gh.URL(),
			"REGISTRY_REPO_OWNER": "platform", "REGISTRY_REPO_NAME": "registry"}
		title = func() string { return e.onlyPR().Title }
	}
	e.vars["REGISTRY_FILE_PATH"], e.vars["RECONCILE_WARMUP"], e.vars["REGISTRY_PR_TITLE"] = path, "0s", tmpl
	e.redis = redistest.Start(t)
	e.store = store.New(e.redis.Client(), "")
	e.fn = e.newFunction()
	e.putRecords(1, status.Record{Cluster: "cluster-a", ClaimRef: "team/claim-0", StatusMessage: "down"})
	return e, path, title
}

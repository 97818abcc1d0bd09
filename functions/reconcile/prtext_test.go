package reconcile

import (
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
)

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

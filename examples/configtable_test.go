package examples

import (
	"os"
	"regexp"
	"strings"
	"testing"

	// Linked for their registered configuration loaders, which --help lists.
	_ "github.com/stuttgart-things/machinery-status-collector/agent/config"
	_ "github.com/stuttgart-things/machinery-status-collector/functions/collector"
	_ "github.com/stuttgart-things/machinery-status-collector/functions/ingest"
	_ "github.com/stuttgart-things/machinery-status-collector/functions/reconcile"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

// Every variable a binary's --help lists (agent, ingest, reconcile,
// collector) has a row in the README's Configuration table, aliases too.
func TestReadmeConfigurationListsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(raw), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no Configuration section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	documented := map[string]bool{}
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	for _, row := range strings.Split(table, "\n") {
		if cells := strings.Split(row, "|"); len(cells) > 2 {
			for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
				documented[m[1]] = true
			}
			// An old name is documented in its variable's row.
			for _, m := range name.FindAllStringSubmatch(cells[len(cells)-2], -1) {
				documented[m[1]] = documented[m[1]] || strings.Contains(cells[len(cells)-2], "old name")
			}
		}
	}
	vars := config.Registered()
	if len(vars) < 40 {
		t.Fatalf("only %d registered variables: a loader is not registered", len(vars))
	}
	for _, v := range vars {
		if !documented[v.Name] {
			t.Errorf("%s is read but has no row in README.md's Configuration table", v.Name)
		}
		if v.Alias != "" && !documented[v.Alias] {
			t.Errorf("%s (old name of %s) is not mentioned in its row", v.Alias, v.Name)
		}
	}
}

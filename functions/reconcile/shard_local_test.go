package reconcile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// TestLocalTemplateFolder: without GitHub credentials a sharded registry
// is proposed as a folder of files beside PR.md, each under its path
// relative to the registry folder; a later run that changes one cluster
// rewrites that file alone and keeps the others' proposals.
func TestLocalTemplateFolder(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry")
	if err := os.MkdirAll(reg, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"cluster-a", "cluster-b", "cluster-c"} {
		if err := os.WriteFile(filepath.Join(reg, c+".yaml"), []byte(c+":\n  - claimRef: team/db\n    statusMessage: ok\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "pr")
	e := &env{t: t, logs: &servertest.Buffer{}}
	e.redis = redistest.Start(t)
	e.store = store.New(e.redis.Client(), "")
	e.vars = map[string]string{"REGISTRY_FILE_PATH": filepath.Join(reg, "{cluster}.yaml"), "REGISTRY_LOCAL_PR_DIR": out,
		"RECONCILE_WARMUP": "0s", "REGISTRY_ADD_MISSING": "true"}
	e.fn = e.newFunction()
	e.putRecords(1,
		status.Record{Cluster: "cluster-a", ClaimRef: "team/db", StatusMessage: "down"},
		status.Record{Cluster: "cluster-b", ClaimRef: "team/db", StatusMessage: "down"},
		status.Record{Cluster: "cluster-d", ClaimRef: "team/new", StatusMessage: "up"},
	)
	if res := e.run(); res.Outcome != "opened" || res.Changed != 2 || res.Missing != 1 {
		t.Fatalf("first run %+v", res)
	}
	list := func() []string {
		var names []string
		entries, _ := os.ReadDir(out)
		for _, en := range entries {
			names = append(names, en.Name())
		}
		return names
	}
	if got := list(); !reflect.DeepEqual(got, []string{"PR.md", "cluster-a.yaml", "cluster-b.yaml", "cluster-d.yaml"}) {
		t.Fatalf("proposal folder %v", got)
	}
	before, _ := os.ReadFile(filepath.Join(out, "cluster-a.yaml"))
	e.putRecords(2, status.Record{Cluster: "cluster-b", ClaimRef: "team/db", StatusMessage: "ok"})
	if res := e.run(); res.Outcome != "updated" || res.Changed != 1 {
		t.Fatalf("second run %+v", res)
	}
	if got := list(); !reflect.DeepEqual(got, []string{"PR.md", "cluster-a.yaml", "cluster-d.yaml"}) {
		t.Fatalf("proposal folder after cluster-b went back to its base: %v", got)
	}
	after, _ := os.ReadFile(filepath.Join(out, "cluster-a.yaml"))
	pr, _ := os.ReadFile(filepath.Join(out, "PR.md"))
	if string(after) != string(before) || !strings.Contains(string(pr), "cluster-a.yaml") || strings.Contains(string(pr), "cluster-b.yaml") {
		t.Fatalf("cluster-a proposal or PR.md wrong:\n%s\n%s", after, pr)
	}
}

package reconcile

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// shaPaths maps the blob SHAs of the base files to their paths.
func (e *env) shaPaths(prefix string) map[string]string {
	e.t.Helper()
	head, _ := e.repo.Branch("main")
	files, err := e.fn.opts.Publisher.(publish.Files).List(context.Background(), publish.Head{SHA: head, TreeSHA: e.treeOf(head)},
		func(p string) bool { return strings.HasPrefix(p, prefix) })
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]string{}
	for _, f := range files {
		m[f.BlobSHA] = f.Path
	}
	return m
}

func (e *env) branchFile(path string) string {
	e.t.Helper()
	b, ok := e.repo.File(prBranch, path)
	if !ok {
		e.t.Fatalf("%s not on the branch", path)
	}
	return string(b)
}

// TestGlobMixedLayouts: a glob over a clusters map, a ClaimRegistry and
// another clusters map. Records go to the files holding their cluster or
// claim; a claim found nowhere is missing once and added to the file
// holding its cluster, or, for a cluster no file holds, to the first
// file. Later runs read only the files whose clusters changed (and the
// ClaimRegistry, which may hold a claim of any cluster).
func TestGlobMixedLayouts(t *testing.T) {
	files := map[string]string{
		"registry/a.yaml": "# team A\ncluster-a:\n  - name: db\n    namespace: team\n    claimRef: team/db\n    statusMessage: ok\n",
		"registry/b.yaml": "apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\nclaims:\n  - name: x\n    namespace: team\n    clusters:\n      cluster-b:\n        statusMessage: ok\n",
		"registry/c.yaml": "cluster-c:\n  - claimRef: team/web\n    statusMessage: ok\n",
		"other/d.yaml":    "cluster-a: []\n",
	}
	e := newShardEnv(t, files, "registry/*.yaml", "REGISTRY_ADD_MISSING", "true")
	shas := e.shaPaths("registry/")
	e.putRecords(1,
		status.Record{Cluster: "cluster-a", ClaimRef: "team/db", StatusMessage: "down"},
		status.Record{Cluster: "cluster-b", ClaimRef: "team/x", StatusMessage: "down"},
		status.Record{Cluster: "cluster-c", ClaimRef: "team/new", StatusMessage: "up"},
		status.Record{Cluster: "cluster-z", ClaimRef: "team/q", StatusMessage: "up"},
	)
	res := e.run()
	if res.Outcome != publish.ActionOpened || res.Changed != 2 || res.Missing != 2 {
		t.Fatalf("first run %+v", res)
	}
	want := map[string]string{
		"registry/a.yaml": "# team A\ncluster-a:\n  - name: db\n    namespace: team\n    claimRef: team/db\n    statusMessage: down\n    lastCheckedAt: \"2026-11-25T10:00:01Z\"\ncluster-z:\n  - name: q\n    namespace: team\n    claimRef: team/q\n    statusMessage: up\n    lastCheckedAt: \"2026-11-25T10:00:01Z\"\n",
		"registry/b.yaml": "apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\nclaims:\n  - name: x\n    namespace: team\n    clusters:\n      cluster-b:\n        statusMessage: down\n        lastCheckedAt: \"2026-11-25T10:00:01Z\"\n",
		"registry/c.yaml": "cluster-c:\n  - claimRef: team/web\n    statusMessage: ok\n  - claimRef: team/new\n    statusMessage: up\n    lastCheckedAt: \"2026-11-25T10:00:01Z\"\n",
	}
	for p, w := range want {
		if got := e.branchFile(p); got != w {
			t.Errorf("%s:\n%s\nwant\n%s", p, got, w)
		}
	}
	if got, _ := e.repo.File(prBranch, "other/d.yaml"); string(got) != files["other/d.yaml"] {
		t.Error("a file outside the glob changed")
	}
	body := e.onlyPR().Body
	for _, s := range []string{"### `registry/a.yaml`", "### `registry/b.yaml`", "### `registry/c.yaml`"} {
		if strings.Count(body, s) != 1 {
			t.Errorf("body lacks %s:\n%s", s, body)
		}
	}
	if strings.Count(body, "team/new") != 1 || strings.Count(body, "team/q") != 1 || strings.Count(body, "team/x") != 1 {
		t.Errorf("each claim belongs in one file's section:\n%s", body)
	}

	e.gh.ResetCalls()
	if res := e.run(); res.Reason != "clean" || res.GitHubCalls != 1 {
		t.Fatalf("clean run %+v", res)
	}
	// cluster-c changes: c.yaml and the ClaimRegistry are read, a.yaml is not.
	e.putRecords(2, status.Record{Cluster: "cluster-c", ClaimRef: "team/web", StatusMessage: "down"})
	e.gh.ResetCalls()
	res = e.run()
	if got := e.blobReads(shas); res.Outcome != publish.ActionUpdated || !reflect.DeepEqual(got, []string{"registry/b.yaml", "registry/c.yaml"}) {
		t.Fatalf("run %+v read %v", res, got)
	}
	if res.Changed != 3 || res.Missing != 2 || e.branchFile("registry/a.yaml") != want["registry/a.yaml"] {
		t.Fatalf("after the cluster-c change: %+v\n%s", res, e.branchFile("registry/a.yaml"))
	}
	if !strings.Contains(e.branchFile("registry/c.yaml"), "claimRef: team/web\n    statusMessage: down\n") {
		t.Fatalf("c.yaml:\n%s", e.branchFile("registry/c.yaml"))
	}
}

// TestTemplateCreatesClusterFile: with a {cluster} template and
// REGISTRY_ADD_MISSING, a cluster without a file gets one in the style
// of the existing files, in the same commit as the other changes; later
// runs keep it without reading anything for it.
func TestTemplateCreatesClusterFile(t *testing.T) {
	files := map[string]string{
		"registry/cluster-a.yaml": "# Claims of cluster-a, kept by machinery-status-collector.\n\ncluster-a:\n    -   name: db\n        namespace: team\n        claimRef: team/db\n        statusMessage: 'ok'\n        lastCheckedAt: \"2026-01-01T00:00:00Z\"\n",
	}
	e := newShardEnv(t, files, "registry/{cluster}.yaml", "REGISTRY_ADD_MISSING", "true")
	e.putRecords(1,
		status.Record{Cluster: "cluster-a", ClaimRef: "team/db", StatusMessage: "down"},
		status.Record{Cluster: "cluster-new", ClaimRef: "web/front", StatusMessage: "Available"},
		status.Record{Cluster: "cluster-new", ClaimRef: "web/api", StatusMessage: "Creating"},
	)
	res := e.run()
	if res.Outcome != publish.ActionOpened || res.Missing != 2 || res.Changed != 1 {
		t.Fatalf("first run %+v", res)
	}
	const wantNew = "# Claims of cluster-a, kept by machinery-status-collector.\n\ncluster-new:\n    -   name: api\n        namespace: web\n        claimRef: web/api\n        statusMessage: 'Creating'\n        lastCheckedAt: \"2026-11-25T10:00:01Z\"\n    -   name: front\n        namespace: web\n        claimRef: web/front\n        statusMessage: 'Available'\n        lastCheckedAt: \"2026-11-25T10:00:01Z\"\n"
	if got := e.branchFile("registry/cluster-new.yaml"); got != wantNew {
		t.Fatalf("new file:\n%s\nwant\n%s", got, wantNew)
	}
	base, _ := e.repo.Branch("main")
	head, _ := e.repo.Branch(prBranch)
	if got := e.repo.ChangedPaths(base, head); !reflect.DeepEqual(got, []string{"registry/cluster-a.yaml", "registry/cluster-new.yaml"}) {
		t.Fatalf("commit changes %v", got)
	}
	if body := e.onlyPR().Body; !strings.Contains(body, "### `registry/cluster-new.yaml` (new file)") {
		t.Fatalf("body:\n%s", body)
	}
	// Only cluster-a changes: its file is read, the new one is kept by SHA.
	e.putRecords(2, status.Record{Cluster: "cluster-a", ClaimRef: "team/db", StatusMessage: "up"})
	e.gh.ResetCalls()
	res = e.run()
	if res.Outcome != publish.ActionUpdated || res.GitHubCalls != 9 || e.branchFile("registry/cluster-new.yaml") != wantNew {
		t.Fatalf("second run %+v: %v", res, e.gh.CountByEndpoint())
	}
	if !strings.Contains(e.onlyPR().Body, "(new file)") {
		t.Fatal("the remembered section of the new file left the body")
	}
}

// TestOverLimitFileRefusedBeforePush: a file that would pass the blob
// size limit (lowered here to 300 bytes) fails the run, naming the file
// and the limit, before any write reaches GitHub.
func TestOverLimitFileRefusedBeforePush(t *testing.T) {
	files := map[string]string{
		"registry/cluster-a.yaml": "cluster-a:\n  - claimRef: team/db\n    statusMessage: ok\n",
	}
	e := newShardEnv(t, files, "registry/{cluster}.yaml")
	ce := config.FromMap(e.vars)
	cfg := ConfigFromEnv(ce)
	pub, err := publish.New(cfg.Publish, publish.Options{MaxFileBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	fn := New(Options{Store: e.store, Publisher: pub, FilePath: cfg.Publish.Path, Registry: registry.Options{}, Logger: slog.New(slog.DiscardHandler)})
	e.putRecords(1, status.Record{Cluster: "cluster-a", ClaimRef: "team/db", StatusMessage: strings.Repeat("long message ", 30)})
	e.gh.ResetCalls()
	res, err := fn.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "registry/cluster-a.yaml would be") || !strings.Contains(err.Error(), "over the 300-byte limit") {
		t.Fatalf("run: %v (%+v)", err, res)
	}
	if e.gh.Mutations() != 0 || len(e.repo.Pulls()) != 0 {
		t.Fatalf("%d writes reached GitHub: %v", e.gh.Mutations(), e.gh.CountByEndpoint())
	}
	if _, ok := e.repo.Branch(prBranch); ok {
		t.Fatal("branch created")
	}
}

// TestGlobMissingOnce: without REGISTRY_ADD_MISSING, a claim that one
// file lacks but another holds is not missing, and a claim no file holds
// is listed once, in the section of the file that would receive it.
func TestGlobMissingOnce(t *testing.T) {
	files := map[string]string{
		"registry/a.yaml": "cluster-a:\n  - claimRef: team/db\n    statusMessage: ok\n",
		"registry/b.yaml": "apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\nclaims:\n  - name: x\n    namespace: team\n",
		"registry/c.yaml": "cluster-a:\n  - claimRef: team/other\n    statusMessage: ok\n",
	}
	e := newShardEnv(t, files, "registry/*.yaml")
	e.putRecords(1,
		status.Record{Cluster: "cluster-a", ClaimRef: "team/other", StatusMessage: "down"},
		status.Record{Cluster: "cluster-b", ClaimRef: "team/x", StatusMessage: "down"},
		status.Record{Cluster: "cluster-a", ClaimRef: "team/gone", StatusMessage: "up"},
	)
	res := e.run()
	body := e.onlyPR().Body
	if res.Missing != 1 || res.Changed != 2 || strings.Count(body, "team/gone") != 1 || strings.Count(body, "team/x") != 1 || strings.Count(body, "team/other") != 1 {
		t.Fatalf("%+v\n%s", res, body)
	}
	if i, j := strings.Index(body, "### `registry/a.yaml`"), strings.Index(body, "team/gone"); i < 0 || j < i || strings.Contains(body[i:j], "### `registry/b.yaml`") {
		t.Fatalf("team/gone belongs to a.yaml, the first file holding cluster-a:\n%s", body)
	}
	// Only c.yaml's base changes: a.yaml shares cluster-a with it, so both
	// are read again to tell what is missing; the rest is unchanged.
	e.repo.SetFile("main", "registry/c.yaml", []byte(files["registry/c.yaml"]+"# edited\n"))
	e.gh.ResetCalls()
	res = e.run()
	if res.Missing != 1 || res.Changed != 2 || e.gh.CountByEndpoint()["GET /repos/{owner}/{repo}/git/blobs/{sha} 200"] != 3 {
		t.Fatalf("after the base moved: %+v %v", res, e.gh.CountByEndpoint())
	}
}

// TestGlobWithoutFiles fails the run with the pattern named, and writes
// nothing.
func TestGlobWithoutFiles(t *testing.T) {
	e := newShardEnv(t, map[string]string{"README.md": "x\n"}, "registry/*.yaml")
	e.putRecords(1, status.Record{Cluster: "cluster-a", ClaimRef: "team/db", StatusMessage: "down"})
	res, err := e.fn.Run(context.Background())
	if err == nil || err.Error() != "registry registry/*.yaml: no file on the base branch matches" || e.gh.Mutations() != 0 {
		t.Fatalf("%v %+v", err, res)
	}
}

package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// newShardEnv is newEnv over a repository holding files, with
// REGISTRY_FILE_PATH set to pattern.
func newShardEnv(t testing.TB, files map[string]string, pattern string, extraEnv ...string) *env {
	t.Helper()
	e := &env{t: t, logs: &servertest.Buffer{}}
	e.redis = redistest.Start(t)
	e.store = store.New(e.redis.Client(), "")
	e.gh = githubfake.New(t, githubfake.WithToken(ghToken))
	e.repo = e.gh.CreateRepo("platform", "registry", files)
	e.vars = map[string]string{
		"GITHUB_TOKEN": ghToken, "GITHUB_API_URL": e.gh.URL(), "REGISTRY_REPO_OWNER": "platform",
		"REGISTRY_REPO_NAME": "registry", "REGISTRY_FILE_PATH": pattern, "REGISTRY_PR_LABELS": "registry",
		"RECONCILE_TIMEOUT": "60s", "RECONCILE_WARMUP": "0s",
	}
	for i := 0; i+1 < len(extraEnv); i += 2 {
		e.vars[extraEnv[i]] = extraEnv[i+1]
	}
	e.fn = e.newFunction()
	return e
}

// putRecords stores records (cluster, claimRef, message) observed at second sec.
func (e *env) putRecords(sec int, recs ...status.Record) {
	e.t.Helper()
	for i := range recs {
		recs[i].ObservedAt = time.Date(2026, 11, 25, 10, 0, sec, 0, time.UTC).Format(time.RFC3339Nano)
		if err := recs[i].Normalize("", time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)); err != nil {
			e.t.Fatal(err)
		}
	}
	for len(recs) > 0 {
		n := min(len(recs), 1000)
		if _, err := e.store.Apply(context.Background(), time.Now().UTC().Format(time.RFC3339Nano), recs[:n]); err != nil {
			e.t.Fatal(err)
		}
		recs = recs[n:]
	}
}

// blobReads lists the paths whose blobs the last calls read, by SHA.
func (e *env) blobReads(shaToPath map[string]string) []string {
	var out []string
	for _, c := range e.gh.Calls() {
		if c.Method == "GET" && strings.Contains(c.Path, "/git/blobs/") {
			sha := c.Path[strings.LastIndex(c.Path, "/")+1:]
			out = append(out, shaToPath[sha])
		}
	}
	sort.Strings(out)
	return out
}

// shardFile is a clusters-layout file of n claims, all "ok".
func shardFile(cluster string, n int) string {
	b := make([]byte, 0, 48*n+64)
	b = append(b, "# registry of "+cluster+"\n"+cluster+":\n"...)
	for j := range n {
		b = append(b, "  - claimRef: team/claim-"...)
		b = strconv.AppendInt(b, int64(j), 10)
		b = append(b, "\n    statusMessage: ok\n"...)
	}
	return string(b)
}

// TestThousandShardsOneCommit: 1,000 per-cluster files of 1,000 claims;
// 1% of the claims change, spread over 50 files. The run reads exactly
// those 50 files, makes one commit whose tree differs from the base in
// exactly those files, and stays within 8 calls + 2 per changed file.
// The memory of the previous publish is seeded as a run that found
// nothing to change would have left it (reading 1M claims under -race
// would take minutes); TestShardMemoryAcrossRuns covers real first runs.
func TestThousandShardsOneCommit(t *testing.T) {
	const files, claims, changedFiles, changedPerFile = 1000, 1000, 50, 200
	repo := map[string]string{"README.md": "# registry\n"}
	for i := range files {
		c := fmt.Sprintf("c-%04d", i)
		repo["registry/"+c+".yaml"] = shardFile(c, claims)
	}
	e := newShardEnv(t, repo, "registry/{cluster}.yaml")
	// Every cluster reports 5 claims that match the file ("ok").
	var recs []status.Record
	for i := range files {
		for j := range 5 {
			recs = append(recs, status.Record{Cluster: fmt.Sprintf("c-%04d", i), ClaimRef: fmt.Sprintf("team/claim-%d", j), StatusMessage: "ok"})
		}
	}
	e.putRecords(1, recs...)

	ctx := context.Background()
	baseHead, _ := e.repo.Branch("main")
	pub := e.fn.opts.Publisher.(publish.Files)
	listed, err := pub.List(ctx, publish.Head{SHA: baseHead, TreeSHA: e.treeOf(baseHead)}, func(p string) bool { return strings.HasPrefix(p, "registry/") })
	if err != nil || len(listed) != files {
		t.Fatalf("list: %d files, %v", len(listed), err)
	}
	mem := shardMemory{Clusters: map[string]string{}, Files: map[string]fileMemory{}}
	shaToPath := map[string]string{}
	for _, fl := range listed {
		c := strings.TrimSuffix(strings.TrimPrefix(fl.Path, "registry/"), ".yaml")
		mem.Files[fl.Path] = fileMemory{Base: fl.BlobSHA, Out: fl.BlobSHA, Deps: []string{c}}
		cr, err := e.store.ClusterRecords(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		mem.Clusters[c] = fingerprint(cr)
		shaToPath[fl.BlobSHA] = fl.Path
	}
	b, _ := json.Marshal(savedState{State: publish.State{BaseSHA: baseHead}, Shards: &mem})
	if err := e.store.SavePublishState(ctx, b); err != nil {
		t.Fatal(err)
	}

	// 1% of the claims change: 200 in each of 50 files spread over the fleet.
	recs = recs[:0]
	var want []string
	for f := range changedFiles {
		c := fmt.Sprintf("c-%04d", f*files/changedFiles+7)
		want = append(want, "registry/"+c+".yaml")
		for j := range changedPerFile {
			recs = append(recs, status.Record{Cluster: c, ClaimRef: fmt.Sprintf("team/claim-%d", j*5), StatusMessage: "degraded"})
		}
	}
	e.putRecords(2, recs...)
	e.gh.ResetCalls()
	start := time.Now()
	res := e.run()
	t.Logf("changed run: %+v in %s", res, time.Since(start))

	if res.Outcome != publish.ActionOpened || res.Changed != changedFiles*changedPerFile {
		t.Fatalf("result %+v", res)
	}
	// Head, tree, then per changed file one blob read and one blob
	// upload, then tree, commit, branch, PR and labels.
	if wantCalls := 2 + 2*changedFiles + 5; res.GitHubCalls != wantCalls || e.gh.CallCount() != wantCalls || wantCalls > 8+2*changedFiles {
		t.Fatalf("%d calls (fake saw %d), want %d: %v", res.GitHubCalls, e.gh.CallCount(), wantCalls, e.gh.CountByEndpoint())
	}
	if got := e.blobReads(shaToPath); !reflect.DeepEqual(got, want) {
		t.Fatalf("read %d blobs, want the %d changed files: %v", len(got), len(want), got)
	}
	head, _ := e.repo.Branch(prBranch)
	c, _ := e.repo.Commit(head)
	if !reflect.DeepEqual(c.Parents, []string{baseHead}) {
		t.Fatalf("branch head %s has parents %v, want the base", head, c.Parents)
	}
	if got := e.repo.ChangedPaths(baseHead, head); !reflect.DeepEqual(got, want) {
		t.Fatalf("commit changes %d files, want %d: %v", len(got), len(want), got)
	}
	got, _ := e.repo.File(prBranch, want[0])
	if n := strings.Count(string(got), "statusMessage: degraded"); n != changedPerFile {
		t.Fatalf("%s holds %d degraded claims, want %d", want[0], n, changedPerFile)
	}
	pr := e.onlyPR()
	if strings.Count(pr.Body, "\n### `registry/") == 0 || !strings.Contains(pr.Body, "### `"+want[0]+"`") {
		t.Fatalf("PR body not grouped by file:\n%.600s", pr.Body)
	}

	// Nothing new: one call.
	e.gh.ResetCalls()
	if res := e.run(); res.Reason != "clean" || res.GitHubCalls != 1 {
		t.Fatalf("clean run %+v", res)
	}
	// One claim in one file: that file alone is read; 8 + 2 calls at most.
	e.putRecords(3, status.Record{Cluster: "c-0500", ClaimRef: "team/claim-1", StatusMessage: "degraded"})
	e.gh.ResetCalls()
	res = e.run()
	if res.Outcome != publish.ActionUpdated || res.GitHubCalls > 10 || !reflect.DeepEqual(e.blobReads(shaToPath), []string{"registry/c-0500.yaml"}) {
		t.Fatalf("one-file run %+v, blobs %v, calls %v", res, e.blobReads(shaToPath), e.gh.CountByEndpoint())
	}
	head2, _ := e.repo.Branch(prBranch)
	if got := e.repo.ChangedPaths(baseHead, head2); len(got) != changedFiles+1 {
		t.Fatalf("second commit changes %d files, want %d", len(got), changedFiles+1)
	}
}

// treeOf is the tree of a commit in the fake.
func (e *env) treeOf(commit string) string {
	c, _ := e.repo.Commit(commit)
	return c.Tree
}

// onlyPR is the single pull request of the repository.
func (e *env) onlyPR() githubfake.PullRequest {
	e.t.Helper()
	prs := e.repo.Pulls()
	if len(prs) != 1 {
		e.t.Fatalf("%d pull requests", len(prs))
	}
	return prs[0]
}

package publish

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	mscregistry "github.com/stuttgart-things/machinery-status-collector/shared/registry"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// registryCases are registry golden cases (shared/registry/testdata)
// taken through both publishers: the proposed file must be the golden
// output byte for byte, and a second run with the same records proposes
// nothing new.
var registryCases = []struct {
	in, golden string
	recs       []status.Record
	opts       mscregistry.Options
}{
	{"seed-format.yaml", "seed-format.yaml", []status.Record{
		regRec("cluster-01", "default/my-db", "", "True", "Resource is available"),
		regRec("cluster-01", "team-a/cache", "Redis.cache.example.org", "False", "Creating: waiting"),
		regRec("cluster-01", "team-b/queue", "", "True", "Available"),
		regRec("cluster-01", "default/web", "", "True", "Ready"),
		regRec("cluster-02", "default/my-db", "", "True", "Ready"),
		regRec("cluster-02", "postgresqls.2.2.2/my-db", "", "True", "Hijacked"),
	}, mscregistry.Options{}},
	{"anchors-clusters.yaml", "anchors-clusters-add-missing.yaml", []status.Record{
		regRec("cluster-a", "default/my-db", "", "True", "Available"),
		regRec("cluster-b", "default/my-db", "", "False", "Broken"),
		regRec("cluster-a", "team-a/base", "Redis.cache.example.org", "True", "Available"),
		regRec("cluster-a", "team-a/cache", "", "True", "Available"),
		regRec("cluster-a", "team-a/queue", "", "False", "Creating: x"),
		regRec("cluster-b", "team-b/base", "", "True", "Available"),
		regRec("cluster-c", "default/web", "", "True", "Available"),
		regRec("cluster-d", "default/web", "", "True", "Available"),
		regRec("cluster-d", "default/new", "", "True", "Available"),
		regRec("cluster-a", "default/new", "", "True", "Available"),
		regRec("cluster-e", "default/bare", "", "True", "Available"),
	}, mscregistry.Options{AddMissing: true}},
	{"anchors-claimregistry.yaml", "anchors-claimregistry.yaml", []status.Record{
		regRec("cluster-a", "default/pg", "", "False", "Broken"),
		regRec("cluster-a", "apps/cache", "", "False", "Broken"),
		regRec("cluster-b", "apps/cache", "", "False", "Creating"),
		regRec("cluster-c", "apps/cache", "", "True", "Available"),
		regRec("cluster-a", "default/pg-copy", "", "True", "Available"),
		regRec("cluster-a", "default/new", "", "True", "Available"),
	}, mscregistry.Options{}},
}

func regRec(cluster, ref, kind, ready, msg string) status.Record {
	return status.Record{Cluster: cluster, ClaimRef: ref, Kind: kind, Ready: ready, StatusMessage: msg, ObservedAt: "2026-02-01T10:00:00.5Z"}
}

// propose applies the case's records to base and returns the new file
// and a body listing the report's notes.
func propose(t *testing.T, base []byte, recs []status.Record, opts mscregistry.Options) ([]byte, Desired) {
	t.Helper()
	out, rep, err := mscregistry.Apply(base, recs, opts)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	var body strings.Builder
	for _, n := range rep.Notes {
		body.WriteString(n.Cluster + " " + n.ClaimRef + ": " + n.Text + "\n")
	}
	return out, Desired{Title: "Update claim status", Body: body.String()}
}

// sameValues fails unless a and b decode to the same values.
func sameValues(t *testing.T, a, b []byte) {
	t.Helper()
	var va, vb any
	if err := yaml.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(va, vb) {
		t.Fatalf("decoded values differ:\n%v\n%v", va, vb)
	}
}

func readRegistryTestdata(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "registry", "testdata", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRegistryGoldenThroughLocal(t *testing.T) {
	for _, tc := range registryCases {
		t.Run(tc.golden, func(t *testing.T) {
			src := readRegistryTestdata(t, "in", tc.in)
			want := readRegistryTestdata(t, "out", tc.golden)
			l, file, _ := newLocal(t, string(src))
			ctx := context.Background()
			var st State
			for run := range 2 {
				base, err := l.ReadBase(ctx)
				if err != nil {
					t.Fatal(err)
				}
				out, d := propose(t, base.Content, tc.recs, tc.opts)
				res, next, err := l.Publish(ctx, base, out, d, st)
				if err != nil {
					t.Fatal(err)
				}
				st = next
				if wantAction := []string{ActionOpened, ActionUnchanged}[run]; res.Action != wantAction {
					t.Fatalf("run %d: %s, want %s", run, res.Action, wantAction)
				}
				got, err := os.ReadFile(l.proposalPath(file))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("run %d: proposal differs from the golden file (%v):\n%s", run, err, got)
				}
				sameValues(t, got, want)
				pr, _ := os.ReadFile(l.prPath())
				if !strings.Contains(string(pr), d.Body) {
					t.Fatalf("PR.md lacks the notes:\n%s", pr)
				}
			}
		})
	}
}

func TestRegistryGoldenThroughGitHub(t *testing.T) {
	for _, tc := range registryCases {
		t.Run(tc.golden, func(t *testing.T) {
			src := readRegistryTestdata(t, "in", tc.in)
			want := readRegistryTestdata(t, "out", tc.golden)
			e := newEnv(t, 1)
			e.repo.SetFile("main", regPath, src)
			for run := range 2 {
				ctx := e.ctx(time.Minute)
				base, err := e.pub.ReadBase(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(base.Content, src) {
					t.Fatalf("base is not the input:\n%s", base.Content)
				}
				out, d := propose(t, base.Content, tc.recs, tc.opts)
				res, next, err := e.pub.Publish(ctx, base, out, d, e.st)
				if err != nil {
					t.Fatal(err)
				}
				e.st = next
				if wantAction := []string{ActionOpened, ActionUnchanged}[run]; res.Action != wantAction {
					t.Fatalf("run %d: %s, want %s", run, res.Action, wantAction)
				}
				got, ok := e.repo.File(prBranch, regPath)
				if !ok || !bytes.Equal(got, want) {
					t.Fatalf("run %d: branch file differs from the golden file:\n%s", run, got)
				}
				sameValues(t, got, want)
				if pr := e.onePR(); !strings.Contains(pr.Body, d.Body) {
					t.Fatalf("PR body lacks the notes:\n%s", pr.Body)
				}
			}
		})
	}
}

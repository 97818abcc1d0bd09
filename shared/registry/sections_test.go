package registry

import (
	"os"
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// Which files are applied in sections and which whole; applyBoth (used
// by every Apply test) checks that both ways give the same result.
func TestApplySectionsTaken(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("testdata/in/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	gen, _ := benchRegistry(300)
	recs := []status.Record{mkrec("a", "default/x", "True", "Available"), mkrec("a", "default/y", "True", "Ready"), mkrec("new", "default/y", "True", "Ready"),
		mkrec("cluster-050", "team-1/claim-000001", "True", "Ready"), mkrec("cluster-099", "team-0/claim-000299", "True", "Ready")}
	cases := []struct {
		name string
		src  string
		opts Options
		want bool
	}{
		{"seed", read("seed.yaml"), Options{}, true},
		{"generated, crlf and bom", "\ufeff" + strings.ReplaceAll(string(gen), "\n", "\r\n"), Options{}, true},
		{"seed, new cluster added", read("seed.yaml"), Options{AddMissing: true}, true},
		{"anchor within a section", "a:\n  - name: &n x\n    namespace: default\n    claimRef: *n\nb: []\n", Options{}, true},
		{"clusters cut between items, claims added", string(gen), Options{AddMissing: true}, true},
		{"one cluster cut between items", "a:\n  - name: x\n    namespace: default\n  - name: z\n    namespace: default\n", Options{AddMissing: true}, true},
		{"an identity twice, in two sections", "a:\n  - name: x\n    namespace: default\n  - name: x\n    namespace: default\n", Options{}, false},
		{"alias to an earlier item", "a:\n  - &e\n    name: x\n    namespace: default\n  - *e\nb: []\n", Options{}, false},
		{"alias into an earlier section", read("anchors-clusters.yaml"), Options{}, false},
		{"several documents", read("multi-doc.yaml"), Options{}, false},
		{"ClaimRegistry", read("claimregistry-status.yaml"), Options{}, true},
		{"ClaimRegistry, claims added", read("claimregistry-status.yaml"), Options{AddMissing: true}, true},
		{"ClaimRegistry, a key after the claims", read("claimregistry-status.yaml") + "other: 1\n", Options{}, false},
		{"ClaimRegistry, anchors", read("anchors-claimregistry.yaml"), Options{AddMissing: true}, false},
		{"one top-level key, one item", "a:\n  - name: x\n    namespace: default\n", Options{}, false},
		{"invalid YAML", "a: []\nb: [\n", Options{}, false},
		{"style known only later", "a: []\nb:\n  - name: x\n    namespace: default\n    statusMessage: 'old'\n", Options{AddMissing: true}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, ok := applySections(yamlsrc.New([]byte(tc.src)), recs, tc.opts, 1)
			if ok != tc.want {
				t.Errorf("sectioned = %v, want %v", ok, tc.want)
			}
			applyBoth(t, []byte(tc.src), recs, tc.opts)
		})
	}
}

// peakBoundMiB bounds the heap one apply of 100k claims (the seed layout
// over 100 clusters, 10% changed) may occupy at its peak, above the file
// and records it is given. Measured: 80-84 MiB read in sections (the
// whole-file read needed 304 MiB); the 30% margin absorbs GC timing.
const peakBoundMiB = 108

// TestApplyPeakHeap fails when applying a large registry needs more heap
// than the bound: a regression to holding the whole node tree (or the
// records twice) shows here first.
func TestApplyPeakHeap(t *testing.T) {
	src, recs := benchRegistry(100_000)
	var rep Report
	var err error
	peak := peakHeap(func() { _, rep, err = Apply(src, recs, Options{}) })
	if err != nil || len(rep.Changed) != 10_000 {
		t.Fatalf("Apply: %v, %d changes", err, len(rep.Changed))
	}
	t.Logf("peak heap of a 100k-claim apply: %.1f MiB (bound %d MiB)", float64(peak)/(1<<20), peakBoundMiB)
	if peak > peakBoundMiB<<20 {
		t.Errorf("peak heap %.1f MiB, bound %d MiB", float64(peak)/(1<<20), peakBoundMiB)
	}
}

// Claims of a cluster cut between items go missing in different
// sections (a kind that fits no entry) and after its last one (no entry
// at all); they are appended together in the order a whole-file run
// uses, which applyBoth checks.
func TestApplySectionsAddsInOrder(t *testing.T) {
	src := "a:\n  - name: x\n    namespace: default\n    kind: K1\n  - name: z\n    namespace: default\n    kind: K1\n"
	kinded := func(ref, kind string) status.Record { r := mkrec("a", ref, "True", "Ready"); r.Kind = kind; return r }
	recs := []status.Record{kinded("default/z", "K2"), kinded("default/x", "K2"), kinded("default/w", "K2")}
	if _, _, ok := applySections(yamlsrc.New([]byte(src)), recs, Options{AddMissing: true}, 1); !ok {
		t.Fatal("not applied in sections")
	}
	out, rep, err := applyBoth(t, []byte(src), recs, Options{AddMissing: true})
	if err != nil || len(rep.Missing) != 3 {
		t.Fatalf("%v %+v", err, rep)
	}
	want := src + "  - name: w\n    namespace: default\n    kind: K2\n    statusMessage: Ready\n    lastCheckedAt: \"" + observed + "\"\n" +
		"  - name: x\n    namespace: default\n    kind: K2\n    statusMessage: Ready\n    lastCheckedAt: \"" + observed + "\"\n" +
		"  - name: z\n    namespace: default\n    kind: K2\n    statusMessage: Ready\n    lastCheckedAt: \"" + observed + "\"\n"
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

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
	recs := []status.Record{mkrec("a", "default/x", "True", "Available"), mkrec("new", "default/y", "True", "Ready")}
	cases := []struct {
		name string
		src  string
		opts Options
		want bool
	}{
		{"seed", read("seed.yaml"), Options{}, true},
		{"generated, crlf and bom", "\ufeff" + strings.ReplaceAll(string(gen), "\n", "\r\n"), Options{}, true},
		{"seed, new cluster added", read("seed.yaml"), Options{AddMissing: true}, true},
		{"anchor within a section", "a:\n  - &e\n    name: x\n    namespace: default\n  - *e\nb: []\n", Options{}, true},
		{"alias into an earlier section", read("anchors-clusters.yaml"), Options{}, false},
		{"several documents", read("multi-doc.yaml"), Options{}, false},
		{"ClaimRegistry", read("claimregistry-status.yaml"), Options{}, false},
		{"one top-level key", "a:\n  - name: x\n    namespace: default\n", Options{}, false},
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

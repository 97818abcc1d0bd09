package registry

import (
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// sharedNodes marks alias targets and everything below them, and
// nothing else; merge reads keys the mapping lacks, own keys first.
func TestSharedNodesAndMerge(t *testing.T) {
	src := "a:\n  - &e\n    name: x\n    namespace: d\n    statusMessage: s\n  - <<: *e\n    name: y\n  - name: z\n    namespace: d\nb:\n  - *e\n"
	docs, err := parseDocs([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	list := docs[0].Content[0].Content[1]
	shared := sharedNodes([]byte(src), docs)
	e, merged, plain := list.Content[0], list.Content[1], list.Content[2]
	if !shared[e] || !shared[e.Content[1]] || shared[merged] || shared[plain] || shared[list] {
		t.Errorf("shared: e %v (value %v), merged %v, plain %v, list %v", shared[e], shared[e.Content[1]], shared[merged], shared[plain], shared[list])
	}
	if sharedNodes([]byte("a:\n  - name: x\n"), docs) != nil {
		t.Error("a file without anchors needs no walk")
	}
	f, err := readFields(merged, yamlsrc.TopCtx)
	if err != nil {
		t.Fatal(err)
	}
	ns, name, _, ok := f.identity(LayoutClusters)
	if ns != "d" || name != "y" || !ok || !f.merged[fNamespace] || f.merged[fName] || !f.merged[fStatusMessage] || f.own(fStatusMessage) {
		t.Errorf("merged entry: %q %q %v, merged %v", ns, name, ok, f.merged)
	}
}

func TestIsMergeKey(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("<<: {a: 1}\n'<<': 2\n"), &n); err != nil {
		t.Fatal(err)
	}
	m := n.Content[0]
	if !isMergeKey(m.Content[0]) || isMergeKey(m.Content[2]) {
		t.Error("a plain << is a merge key, a quoted one is not")
	}
}

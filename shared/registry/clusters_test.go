package registry

import (
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

var add = Options{AddMissing: true}

// The case FuzzApply found: a new entry for the last cluster and a new
// cluster key are both inserted at the end of the file.
func TestClustersAddAtEndOfFile(t *testing.T) {
	applyCase(t, "a:\n  - claimRef: d/x\n    statusMessage: m\n",
		[]status.Record{mkrec("a", "d/y", "", "m2"), mkrec("0", "d/z", "", "m3")}, add,
		"a:\n  - claimRef: d/x\n    statusMessage: m\n"+
			"  - claimRef: d/y\n    statusMessage: m2\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n"+
			"\"0\":\n  - claimRef: d/z\n    statusMessage: m3\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
}

// New entries copy the last entry's key order, quoting and ready key.
func TestClustersAddCopiesTemplate(t *testing.T) {
	src := "prod:\n- claimRef: 'd/x'\n  ready: 'True'\n  statusMessage: 'ok'\n  name: 'x'\n  namespace: 'd'\n"
	applyCase(t, src, []status.Record{mkrec("prod", "d/y", "False", "Creating")}, add,
		src+"- claimRef: 'd/y'\n  ready: 'False'\n  statusMessage: 'Creating'\n  name: 'y'\n  namespace: 'd'\n  lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
}

// A kind is written for a new entry only when it is needed to tell it
// from another entry or claim of the same name.
func TestClustersAddKind(t *testing.T) {
	applyCase(t, "a: []\n", []status.Record{withKind(mkrec("a", "d/x", "", "m"), "K.g")}, add,
		"a:\n  - name: x\n    namespace: d\n    claimRef: d/x\n    statusMessage: m\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
	applyCase(t, "a: []\n", []status.Record{withKind(mkrec("a", "d/x", "", "m"), "K.g"), withKind(mkrec("a", "d/x", "", "n"), "L.g")}, add,
		"a:\n"+
			"  - name: x\n    namespace: d\n    claimRef: d/x\n    statusMessage: m\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n    kind: K.g\n"+
			"  - name: x\n    namespace: d\n    claimRef: d/x\n    statusMessage: \"n\"\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n    kind: L.g\n")
}

// Flow-style lists are updated in place; nothing is appended to them.
func TestClustersFlow(t *testing.T) {
	rep := applyCase(t, "a: [{claimRef: d/x, statusMessage: m, lastCheckedAt: x}]\n",
		[]status.Record{mkrec("a", "d/x", "", "new, with comma"), mkrec("a", "d/y", "", "m")}, add,
		"a: [{claimRef: d/x, statusMessage: \"new, with comma\", lastCheckedAt: \"2026-02-01T10:00:00.5Z\"}]\n")
	if len(rep.Missing) != 1 || rep.Missing[0].Added {
		t.Errorf("missing %+v", rep.Missing)
	}
	rep = applyCase(t, "{a: []}\n", []status.Record{mkrec("b", "d/y", "", "m")}, add, "{a: []}\n")
	if len(rep.Missing) != 1 || rep.Missing[0].Added {
		t.Errorf("missing %+v", rep.Missing)
	}
}

// An entry's own ready key is updated; entries without one get none.
func TestClustersReady(t *testing.T) {
	applyCase(t, "a:\n  - claimRef: d/x\n    statusMessage: m\n  - claimRef: d/y\n    ready: \"True\"\n    statusMessage: m\n",
		[]status.Record{mkrec("a", "d/x", "False", "m"), mkrec("a", "d/y", "False", "m")}, Options{},
		"a:\n  - claimRef: d/x\n    statusMessage: m\n  - claimRef: d/y\n    ready: \"False\"\n    statusMessage: m\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
}

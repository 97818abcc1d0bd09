package registry

import (
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// A deleted flag that shares its line is set to false instead of removed.
func TestSlotUndeleteSharedLine(t *testing.T) {
	applyCase(t, "a:\n  - deleted: true\n    claimRef: d/x\n    statusMessage: m\n",
		[]status.Record{mkrec("a", "d/x", "", "m")}, Options{},
		"a:\n  - deleted: false\n    claimRef: d/x\n    statusMessage: m\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
}

// Removing the last line of a file without a final break keeps it so.
func TestSlotUndeleteLastLine(t *testing.T) {
	applyCase(t, "a:\n  - claimRef: d/x\n    statusMessage: m\n    lastCheckedAt: x\n    deleted: true # gone",
		[]status.Record{mkrec("a", "d/x", "", "m")}, Options{},
		"a:\n  - claimRef: d/x\n    statusMessage: m\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"")
}

// A tagged empty value is replaced, tag and all; an existing `deleted:
// false` is flipped rather than duplicated.
func TestSlotEmptyAndFalse(t *testing.T) {
	applyCase(t, "a:\n  - claimRef: d/x\n    statusMessage: !!str\n    deleted: false\n",
		[]status.Record{deleted(mkrec("a", "d/x", "", "m"))}, Options{},
		"a:\n  - claimRef: d/x\n    statusMessage: !!str\n    deleted: true\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
	applyCase(t, "a:\n  - claimRef: d/x\n    statusMessage: !!str\n",
		[]status.Record{mkrec("a", "d/x", "", "m")}, Options{},
		"a:\n  - claimRef: d/x\n    statusMessage: m\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
}

// Without observedAt (and receivedAt) lastCheckedAt is left alone.
func TestSlotNoTimestamp(t *testing.T) {
	r := mkrec("a", "d/x", "", "new")
	r.ObservedAt = ""
	applyCase(t, "a:\n  - claimRef: d/x\n    statusMessage: m\n    lastCheckedAt: old\n", []status.Record{r}, Options{},
		"a:\n  - claimRef: d/x\n    statusMessage: new\n    lastCheckedAt: old\n")
	r.ReceivedAt = "2026-03-01T00:00:00Z"
	applyCase(t, "a:\n  - claimRef: d/x\n    statusMessage: m\n", []status.Record{r}, Options{},
		"a:\n  - claimRef: d/x\n    statusMessage: new\n    lastCheckedAt: \"2026-03-01T00:00:00Z\"\n")
}

// Insertions at one offset go innermost first: deeper indented lines,
// then list items before keys at the same column.
func TestInsertLinesRank(t *testing.T) {
	p := &planner{s: yamlsrc.New([]byte("a:\n- x\n"))}
	at := len(p.s.Bytes())
	p.insertLines(at, []string{"b:", "- new"})
	p.insertLines(at, []string{"- y"})
	p.insertLines(at, []string{"  k: v"})
	out, err := p.ed.Apply(p.s.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "a:\n- x\n  k: v\n- y\nb:\n- new\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Lines inserted at the end of a file without a final line break keep it
// without one.
func TestInsertLinesNoFinalBreak(t *testing.T) {
	p := &planner{s: yamlsrc.New([]byte("a: 1\r\nb: 2"))}
	p.insertLines(len(p.s.Bytes()), []string{"c: 3", "d: 4"})
	out, err := p.ed.Apply(p.s.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "a: 1\r\nb: 2\r\nc: 3\r\nd: 4"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

package registry

import (
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
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

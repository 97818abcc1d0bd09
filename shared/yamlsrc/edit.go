package yamlsrc

import (
	"cmp"
	"fmt"
	"slices"
)

// edit replaces src[start:end] with text; start == end inserts.
type edit struct {
	start, end int
	text       string
	rank       int // insertions only: nesting of the inserted lines, see insertLines
}

// Editor gathers edits against the original bytes and builds the output
// once, so the cost is linear in the file size whatever the edit count.
type Editor struct {
	edits []edit
}

// Replace replaces src[start:end] with text; an empty no-op is dropped.
func (e *Editor) Replace(start, end int, text string) {
	if start == end && text == "" {
		return
	}
	e.edits = append(e.edits, edit{start: start, end: end, text: text})
}

// Insert adds text at offset at. rank orders insertions that share an
// offset: higher first.
func (e *Editor) Insert(at int, text string, rank int) {
	if text != "" {
		e.edits = append(e.edits, edit{start: at, end: at, text: text, rank: rank})
	}
}

// Apply returns src with all edits made. Edits are sorted by offset. At
// one offset insertions come before a replacement (so a line inserted
// where a removed line started survives), higher rank first, then in the
// order they were made. Overlapping edits are a bug in the caller and
// reported as an error (never a
// problem of the input) rather than producing a mangled file.
func (e *Editor) Apply(src []byte) ([]byte, error) {
	slices.SortStableFunc(e.edits, func(a, b edit) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end-a.start, b.end-b.start), cmp.Compare(b.rank, a.rank))
	})
	size := len(src)
	for _, ed := range e.edits {
		size += len(ed.text) - (ed.end - ed.start)
	}
	out := make([]byte, 0, size)
	prev := 0
	for _, ed := range e.edits {
		if ed.start < prev || ed.end < ed.start || ed.end > len(src) {
			return nil, fmt.Errorf("internal error: overlapping edits at byte %d", ed.start)
		}
		out = append(out, src[prev:ed.start]...)
		out = append(out, ed.text...)
		prev = ed.end
	}
	return append(out, src[prev:]...), nil
}

package registry

import (
	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// cut is where a section starts: a line index, and whether the section
// holds only list items continuing the list of the previous section's
// last cluster (a cluster larger than a section is cut between items).
type cut struct {
	line  int
	items bool
}

// sectionCuts cuts the file into sections of at least chunk bytes, none
// leaving less than tail bytes after it: at top-level keys other than the
// first (see splitPoints), or, with items, between the items of a
// cluster's list, at a line whose '-' sits in the column of the list's
// first item. With items, a key is cut at only when a list item came
// since the last cut, so a header of plain keys (a ClaimRegistry's
// apiVersion and kind) stays with the key after it; a section of items
// ends at the next top-level key. nil when the file has directives or
// document markers other than a first "---". A cut inside a quoted
// scalar or flow collection leaves a piece that does not parse, and the
// file is applied whole; a block scalar's content is indented deeper
// than any '-' that could be cut at.
func sectionCuts(s *yamlsrc.Source, chunk, tail int, items bool) []cut {
	b := s.Bytes()
	cuts := []cut{{}}
	next := chunk
	seenKey := false
	dash := -1       // column of the current cluster's first item; -1 before it
	listed := !items // a list item came since the last cut
	for i := 0; i < s.LineCount(); i++ {
		start := s.LineOffset(i)
		if start >= len(b) {
			break
		}
		switch lineStart(s, start) {
		case startStop:
			if i > 0 || b[start] != '-' { // a first "---" only starts the one document
				return nil
			}
			continue
		case startKey:
			if seenKey && (cuts[len(cuts)-1].items || listed && start >= next && len(b)-start >= tail) {
				cuts = append(cuts, cut{line: i})
				next, listed = start+chunk, !items
			}
			seenKey, dash = true, -1
			continue
		}
		if !items {
			continue
		}
		j := start
		for j < len(b) && b[j] == ' ' {
			j++
		}
		if j >= len(b) || b[j] != '-' || !s.IsBlankz(j+1) {
			continue
		}
		col := j - start
		// A list item at column col.
		listed = listed || seenKey
		switch {
		case !seenKey:
		case dash < 0:
			dash = col
		case col == dash && start >= next:
			cuts = append(cuts, cut{line: i, items: true})
			next = start + chunk
		}
	}
	return cuts
}

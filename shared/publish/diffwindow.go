package publish

import (
	"bytes"
	"fmt"
)

// diffWindow bounds the bytes of each file that windowDiff reads.
const diffWindow = 256 << 10

// windowDiff is unifiedDiff of a window of a and b: from n lines before
// the first difference, at most window bytes of each (cut at a line
// end). Memory and time are bounded by the window, not by the files, so
// logging the diff of a 100 MB registry costs no more than of a small
// one. Past the window the diff stops with a line saying so; an edit at
// the very end of the window may be left out with it, as the two
// windows may end at different lines.
func windowDiff(aName, bName string, a, b []byte, n, window int) string {
	if bytes.Equal(a, b) {
		return ""
	}
	p := 0 // common prefix, then the window's start: a line start
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	p = bytes.LastIndexByte(a[:p], '\n') + 1
	for i := 0; i < n && p > 0; i++ {
		p = bytes.LastIndexByte(a[:p-1], '\n') + 1
	}
	line := bytes.Count(a[:p], []byte{'\n'})
	aw, aCut := cutWindow(a[p:], window)
	bw, bCut := cutWindow(b[p:], window)
	ops := diffLines(splitLines(aw), splitLines(bw), nil)
	if aCut || bCut {
		// Drop what follows the last kept line: it may be only where the
		// windows end, not a difference of the files.
		end := len(ops)
		for end > 0 && ops[end-1].kind != ' ' {
			end--
		}
		ops = ops[:end]
	}
	out := diffText(aName, bName, ops, n, line, line)
	if aCut || bCut {
		out += fmt.Sprintf("… diff shown for %d bytes from the first change only\n", window)
	}
	return out
}

// cutWindow returns at most window bytes of s, cut after a newline when
// it has to cut, and whether it did.
func cutWindow(s []byte, window int) ([]byte, bool) {
	if len(s) <= window {
		return s, false
	}
	if i := bytes.LastIndexByte(s[:window], '\n'); i >= 0 {
		return s[:i+1], true
	}
	return s[:window], true
}

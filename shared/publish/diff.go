package publish

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// maxLCSCells bounds the quadratic fallback of the line diff; a larger
// region without unique lines is shown as removed and re-added, which is
// still a correct diff, just not a minimal one.
const maxLCSCells = 1 << 20

// op is one line of an edit script: ' ' kept, '-' removed, '+' added.
type op struct {
	kind byte
	line string
}

// aLines and bLines count the op's line in the old and new file.
func (o op) aLines() int { return btoi(o.kind != '+') }
func (o op) bLines() int { return btoi(o.kind != '-') }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// unifiedDiff renders the change from a to b in unified format with n
// lines of context; "" when they are equal. Lines are matched by
// patience diff (unique lines as anchors), which keeps registry diffs
// aligned on claim names and runs in near-linear time on large files.
func unifiedDiff(aName, bName string, a, b []byte, n int) string {
	if bytes.Equal(a, b) {
		return ""
	}
	return diffText(aName, bName, diffLines(splitLines(a), splitLines(b), nil), n, 0, 0)
}

// diffText writes ops as a unified diff with n lines of context, the
// first op being line aLine+1 of a and bLine+1 of b.
func diffText(aName, bName string, ops []op, n, aLine, bLine int) string {
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	done := 0 // aLine and bLine count the lines of a and b before ops[done]
	for _, h := range hunks(ops, n) {
		for _, o := range ops[done:h[0]] {
			aLine, bLine = aLine+o.aLines(), bLine+o.bLines()
		}
		done = h[0]
		writeHunk(&out, ops[h[0]:h[1]], aLine, bLine)
	}
	return out.String()
}

// splitLines splits after each newline; a last line without one stays
// as it is, so "no newline at end of file" shows up as a difference.
func splitLines(b []byte) []string {
	var lines []string
	s := string(b)
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i+1])
		s = s[i+1:]
	}
	return lines
}

// diffLines appends the edit script turning a into b to out.
func diffLines(a, b []string, out []op) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	for _, l := range a[:pre] {
		out = append(out, op{' ', l})
	}
	out = diffMiddle(a[pre:len(a)-suf], b[pre:len(b)-suf], out)
	for _, l := range a[len(a)-suf:] {
		out = append(out, op{' ', l})
	}
	return out
}

// diffMiddle diffs a region whose ends differ: it splits at lines unique
// in both sides (in increasing order on both) and recurses between them.
func diffMiddle(a, b []string, out []op) []op {
	switch {
	case len(a) == 0:
		return appendOps(out, '+', b)
	case len(b) == 0:
		return appendOps(out, '-', a)
	}
	anchors := uniqueAnchors(a, b)
	if len(anchors) == 0 {
		return lcsDiff(a, b, out)
	}
	ai, bi := 0, 0
	for _, an := range anchors {
		out = diffLines(a[ai:an[0]], b[bi:an[1]], out)
		out = append(out, op{' ', a[an[0]]})
		ai, bi = an[0]+1, an[1]+1
	}
	return diffLines(a[ai:], b[bi:], out)
}

func appendOps(out []op, kind byte, lines []string) []op {
	for _, l := range lines {
		out = append(out, op{kind, l})
	}
	return out
}

// uniqueAnchors pairs lines that occur exactly once in a and once in b,
// and keeps the longest run increasing in both (patience sorting).
func uniqueAnchors(a, b []string) [][2]int {
	type seen struct{ na, nb, ia, ib int }
	m := map[string]*seen{}
	for i, l := range a {
		s := m[l]
		if s == nil {
			s = &seen{}
			m[l] = s
		}
		s.na++
		s.ia = i
	}
	for i, l := range b {
		if s := m[l]; s != nil {
			s.nb++
			s.ib = i
		}
	}
	var pairs [][2]int
	for _, s := range m {
		if s.na == 1 && s.nb == 1 {
			pairs = append(pairs, [2]int{s.ia, s.ib})
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][0] < pairs[j][0] })
	// Longest increasing subsequence on b positions.
	var tails []int // index into pairs of the smallest tail for each length
	prev := make([]int, len(pairs))
	for i, p := range pairs {
		k := sort.Search(len(tails), func(k int) bool { return pairs[tails[k]][1] >= p[1] })
		if k > 0 {
			prev[i] = tails[k-1]
		} else {
			prev[i] = -1
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	if len(tails) == 0 {
		return nil
	}
	lis := make([][2]int, len(tails))
	for i, k := len(tails)-1, tails[len(tails)-1]; i >= 0; i, k = i-1, prev[k] {
		lis[i] = pairs[k]
	}
	return lis
}

// lcsDiff is the classic longest-common-subsequence diff for small
// regions without unique lines.
func lcsDiff(a, b []string, out []op) []op {
	if len(a)*len(b) > maxLCSCells {
		return appendOps(appendOps(out, '-', a), '+', b)
	}
	w := len(b) + 1
	l := make([]int32, (len(a)+1)*w) // l[i*w+j] = LCS of a[i:], b[j:]
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i*w+j] = l[(i+1)*w+j+1] + 1
			} else {
				l[i*w+j] = max(l[(i+1)*w+j], l[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, op{' ', a[i]})
			i, j = i+1, j+1
		case l[(i+1)*w+j] >= l[i*w+j+1]:
			out = append(out, op{'-', a[i]})
			i++
		default:
			out = append(out, op{'+', b[j]})
			j++
		}
	}
	return appendOps(appendOps(out, '-', a[i:]), '+', b[j:])
}

// hunks groups changed ops with n lines of context, merging groups whose
// context would touch; each hunk is a [from, to) range of ops.
func hunks(ops []op, n int) [][2]int {
	var out [][2]int
	for i := 0; i < len(ops); i++ {
		if ops[i].kind == ' ' {
			continue
		}
		from := max(i-n, 0)
		end := i + 1 // one past the last change of this hunk
		for j := end; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j + 1
			} else if j-end >= 2*n {
				break
			}
		}
		to := min(end+n, len(ops))
		out = append(out, [2]int{from, to})
		i = to - 1
	}
	return out
}

// writeHunk writes one hunk that starts after aLine lines of a and
// bLine of b, with its @@ header (1-based starts; the start of an empty
// range is the line before it, as diff does).
func writeHunk(w *strings.Builder, ops []op, aLine, bLine int) {
	aLen, bLen := 0, 0
	for _, o := range ops {
		aLen, bLen = aLen+o.aLines(), bLen+o.bLines()
	}
	start := func(line, n int) int {
		if n == 0 {
			return line
		}
		return line + 1
	}
	fmt.Fprintf(w, "@@ -%d,%d +%d,%d @@\n", start(aLine, aLen), aLen, start(bLine, bLen), bLen)
	for _, o := range ops {
		w.WriteByte(o.kind)
		w.WriteString(o.line)
		if !strings.HasSuffix(o.line, "\n") {
			w.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

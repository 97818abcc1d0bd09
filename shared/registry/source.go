package registry

import (
	"sort"
	"unicode/utf8"
)

// source is the registry file with an index of its lines. Line breaks are
// counted the way yaml.v3 counts them (LF, CRLF, lone CR, NEL, LS, PS) and
// columns in characters, so a yaml.Node's Line/Column maps to a byte offset.
type source struct {
	b     []byte
	lines []int  // byte offset where each line starts
	eol   string // line break for inserted lines: like the file's first one (NEL, LS and PS give LF)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func newSource(b []byte) *source {
	s := &source{b: b, eol: "\n"}
	start := 0
	if len(b) >= 3 && b[0] == utf8BOM[0] && b[1] == utf8BOM[1] && b[2] == utf8BOM[2] {
		start = 3 // yaml.v3 drops the BOM before it counts columns
	}
	s.lines = make([]int, 1, len(b)/24+1)
	s.lines[0] = start
	first := true
	for i := start; i < len(b); {
		c := b[i]
		// Fast path: no break starts with a byte other than these.
		if c != '\n' && c != '\r' && c != 0xC2 && c != 0xE2 {
			i++
			continue
		}
		n := breakLen(b, i)
		if n == 0 {
			i++
			continue
		}
		if first {
			first = false
			switch {
			case n == 2 && c == '\r':
				s.eol = "\r\n"
			case c == '\r':
				s.eol = "\r" // old Mac line ends; YAML reads them
			}
		}
		i += n
		s.lines = append(s.lines, i)
	}
	return s
}

// breakLen is the length of the line break at b[i], 0 if there is none.
func breakLen(b []byte, i int) int {
	if i >= len(b) {
		return 0
	}
	switch c := b[i]; c {
	case '\n':
		return 1
	case '\r':
		if i+1 < len(b) && b[i+1] == '\n' {
			return 2
		}
		return 1
	case 0xC2:
		if i+1 < len(b) && b[i+1] == 0x85 {
			return 2
		}
	case 0xE2:
		if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
			return 3
		}
	}
	return 0
}

func (s *source) at(i int) byte {
	if i < 0 || i >= len(s.b) {
		return 0
	}
	return s.b[i]
}

func (s *source) isBlank(i int) bool { c := s.at(i); return c == ' ' || c == '\t' }

// isBlankz: blank, line break or end of input (yaml.v3's is_blankz).
func (s *source) isBlankz(i int) bool {
	return i >= len(s.b) || s.isBlank(i) || breakLen(s.b, i) > 0
}

// offset converts a yaml.v3 position (1-based line and character column)
// to a byte offset.
func (s *source) offset(line, col int) int {
	if line < 1 {
		return 0
	}
	if line > len(s.lines) {
		return len(s.b)
	}
	off := s.lines[line-1]
	for n := col - 1; n > 0 && off < len(s.b); n-- {
		if s.b[off] < utf8.RuneSelf {
			off++
			continue
		}
		_, w := utf8.DecodeRune(s.b[off:])
		off += w
	}
	return off
}

// lineIndex is the 0-based index of the line holding byte off.
func (s *source) lineIndex(off int) int {
	return sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
}

// line is the 1-based line number of byte off, for messages.
func (s *source) line(off int) int { return s.lineIndex(off) + 1 }

// col is the 0-based character column of byte off.
func (s *source) col(off int) int {
	start := s.lines[s.lineIndex(off)]
	return utf8.RuneCount(s.b[start:off])
}

// lineStart is the offset of the first byte of the line holding off.
func (s *source) lineStart(off int) int { return s.lines[s.lineIndex(off)] }

// nextLine is the offset of the line after the one holding off, or
// len(b) when off is on the last line.
func (s *source) nextLine(off int) int {
	i := s.lineIndex(off)
	if i+1 < len(s.lines) {
		return s.lines[i+1]
	}
	return len(s.b)
}

// lineEnd is the offset of the line break ending the line holding off
// (len(b) on a last line without one).
func (s *source) lineEnd(off int) int {
	i := s.lineIndex(off)
	if i+1 < len(s.lines) {
		return s.breakBefore(s.lines[i+1])
	}
	return len(s.b)
}

// breakBefore is the offset of the line break that ends just before line
// start next (next must be a line start other than the first).
func (s *source) breakBefore(next int) int {
	switch {
	case next >= 2 && s.b[next-2] == '\r' && s.b[next-1] == '\n':
		return next - 2
	case next >= 3 && s.b[next-3] == 0xE2 && s.b[next-2] == 0x80 && (s.b[next-1] == 0xA8 || s.b[next-1] == 0xA9):
		return next - 3
	case next >= 2 && s.b[next-2] == 0xC2 && s.b[next-1] == 0x85:
		return next - 2
	case next >= 1:
		return next - 1
	}
	return 0
}

// blankLine reports whether the line holding off has only blanks.
func (s *source) blankLine(off int) bool {
	for i, end := s.lineStart(off), s.lineEnd(off); i < end; i++ {
		if !s.isBlank(i) {
			return false
		}
	}
	return true
}

// endsWithBreak reports whether the file's last line is terminated.
func (s *source) endsWithBreak() bool {
	return len(s.b) == 0 || s.lines[len(s.lines)-1] == len(s.b)
}

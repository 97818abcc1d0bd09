package yamlsrc

import (
	"sort"
	"unicode/utf8"
)

// Source is a YAML file's bytes with an index of its lines. Line breaks are
// counted the way yaml.v3 counts them (LF, CRLF, lone CR, NEL, LS, PS) and
// columns in characters, so a yaml.Node's Line/Column maps to a byte offset.
type Source struct {
	b     []byte
	lines []int  // byte offset where each line starts
	eol   string // line break for inserted lines: like the file's first one (NEL, LS and PS give LF)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// New indexes the lines of b. b is kept, never modified, and must not be
// modified while the Source is in use.
func New(b []byte) *Source {
	s := &Source{b: b, eol: "\n"}
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
		n := BreakLen(b, i)
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

// BreakLen is the length of the line break at b[i], 0 if there is none.
func BreakLen(b []byte, i int) int {
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

// Bytes is the file the Source indexes.
func (s *Source) Bytes() []byte { return s.b }

// EOL is the line break to write in inserted lines: the file's first
// one (CRLF, CR or LF; NEL, LS and PS give LF), LF when it has none.
func (s *Source) EOL() string { return s.eol }

// LineCount is the number of lines (a final line break starts an empty
// last line).
func (s *Source) LineCount() int { return len(s.lines) }

// LineOffset is the byte offset where 0-based line i starts.
func (s *Source) LineOffset(i int) int { return s.lines[i] }

// At is the byte at i, 0 outside the file.
func (s *Source) At(i int) byte {
	if i < 0 || i >= len(s.b) {
		return 0
	}
	return s.b[i]
}

// IsBlank reports a space or tab at i.
func (s *Source) IsBlank(i int) bool { c := s.At(i); return c == ' ' || c == '\t' }

// IsBlankz: blank, line break or end of input (yaml.v3's is_blankz).
func (s *Source) IsBlankz(i int) bool {
	return i >= len(s.b) || s.IsBlank(i) || BreakLen(s.b, i) > 0
}

// Offset converts a yaml.v3 position (1-based line and character column)
// to a byte offset.
func (s *Source) Offset(line, col int) int {
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

// LineIndex is the 0-based index of the line holding byte off.
func (s *Source) LineIndex(off int) int {
	return sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
}

// Line is the 1-based line number of byte off, for messages.
func (s *Source) Line(off int) int { return s.LineIndex(off) + 1 }

// Col is the 0-based character column of byte off.
func (s *Source) Col(off int) int {
	start := s.lines[s.LineIndex(off)]
	return utf8.RuneCount(s.b[start:off])
}

// LineStart is the offset of the first byte of the line holding off.
func (s *Source) LineStart(off int) int { return s.lines[s.LineIndex(off)] }

// NextLine is the offset of the line after the one holding off, or
// len(b) when off is on the last line.
func (s *Source) NextLine(off int) int {
	i := s.LineIndex(off)
	if i+1 < len(s.lines) {
		return s.lines[i+1]
	}
	return len(s.b)
}

// LineEnd is the offset of the line break ending the line holding off
// (len(b) on a last line without one).
func (s *Source) LineEnd(off int) int {
	i := s.LineIndex(off)
	if i+1 < len(s.lines) {
		return s.BreakBefore(s.lines[i+1])
	}
	return len(s.b)
}

// BreakBefore is the offset of the line break that ends just before line
// start next (next must be a line start other than the first).
func (s *Source) BreakBefore(next int) int {
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

// BlankLine reports whether the line holding off has only blanks.
func (s *Source) BlankLine(off int) bool {
	for i, end := s.LineStart(off), s.LineEnd(off); i < end; i++ {
		if !s.IsBlank(i) {
			return false
		}
	}
	return true
}

// EndsWithBreak reports whether the file's last line is terminated.
func (s *Source) EndsWithBreak() bool {
	return len(s.b) == 0 || s.lines[len(s.lines)-1] == len(s.b)
}

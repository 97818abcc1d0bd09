package registry

import (
	"slices"
	"testing"
)

func TestSourceLines(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		lines []int
		eol   string
	}{
		{"lf", "a\nbc\n", []int{0, 2, 5}, "\n"},
		{"crlf", "a\r\nbc\r\n", []int{0, 3, 7}, "\r\n"},
		{"cr", "a\rb", []int{0, 2}, "\r"},
		{"no final break", "a\nb", []int{0, 2}, "\n"},
		{"bom", "\ufeffa\nb", []int{3, 5}, "\n"},
		{"nel ls ps", "a\u0085b\u2028c\u2029d", []int{0, 3, 7, 11}, "\n"},
		{"empty", "", []int{0}, "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSource([]byte(tc.src))
			if !slices.Equal(s.lines, tc.lines) || s.eol != tc.eol {
				t.Errorf("lines %v eol %q, want %v %q", s.lines, s.eol, tc.lines, tc.eol)
			}
		})
	}
}

func TestSourcePositions(t *testing.T) {
	s := newSource([]byte("key: ä€x\r\n  next\nlast"))
	// Columns count characters: x is the 8th character of line 1.
	if off := s.offset(1, 8); s.b[off] != 'x' {
		t.Errorf("offset(1,8) = %d (%q)", off, s.b[off])
	}
	if got := s.col(s.offset(1, 8)); got != 7 {
		t.Errorf("col = %d, want 7", got)
	}
	n := s.offset(2, 3)
	if string(s.b[n:n+4]) != "next" || s.line(n) != 2 {
		t.Errorf("offset(2,3) = %d line %d", n, s.line(n))
	}
	if end := s.lineEnd(0); string(s.b[end:end+2]) != "\r\n" {
		t.Errorf("lineEnd(0) = %d", end)
	}
	if got := s.lineEnd(n); s.b[got] != '\n' {
		t.Errorf("lineEnd of line 2 = %d", got)
	}
	last := s.offset(3, 1)
	if s.lineEnd(last) != len(s.b) || s.nextLine(last) != len(s.b) || s.endsWithBreak() {
		t.Errorf("last line: end %d next %d", s.lineEnd(last), s.nextLine(last))
	}
	if s.breakBefore(n-2) != s.lineEnd(0) {
		t.Errorf("breakBefore(line 2) = %d, want the CRLF at %d", s.breakBefore(n-2), s.lineEnd(0))
	}
	if !newSource([]byte("a\n")).endsWithBreak() || !newSource(nil).endsWithBreak() {
		t.Error("endsWithBreak false for a terminated file")
	}
	if s.blankLine(0) {
		t.Error("line 1 is not blank")
	}
	if !newSource([]byte("x\n  \t\ny")).blankLine(2) {
		t.Error("blank line with spaces and a tab not blank")
	}
}

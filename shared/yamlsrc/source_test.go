package yamlsrc

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
			s := New([]byte(tc.src))
			if !slices.Equal(s.lines, tc.lines) || s.eol != tc.eol {
				t.Errorf("lines %v eol %q, want %v %q", s.lines, s.eol, tc.lines, tc.eol)
			}
		})
	}
}

func TestSourcePositions(t *testing.T) {
	s := New([]byte("key: ä€x\r\n  next\nlast"))
	// Columns count characters: x is the 8th character of line 1.
	if off := s.Offset(1, 8); s.Bytes()[off] != 'x' {
		t.Errorf("offset(1,8) = %d (%q)", off, s.Bytes()[off])
	}
	if got := s.Col(s.Offset(1, 8)); got != 7 {
		t.Errorf("col = %d, want 7", got)
	}
	n := s.Offset(2, 3)
	if string(s.Bytes()[n:n+4]) != "next" || s.Line(n) != 2 {
		t.Errorf("offset(2,3) = %d line %d", n, s.Line(n))
	}
	if end := s.LineEnd(0); string(s.Bytes()[end:end+2]) != "\r\n" {
		t.Errorf("lineEnd(0) = %d", end)
	}
	if got := s.LineEnd(n); s.Bytes()[got] != '\n' {
		t.Errorf("lineEnd of line 2 = %d", got)
	}
	last := s.Offset(3, 1)
	if s.LineEnd(last) != len(s.Bytes()) || s.NextLine(last) != len(s.Bytes()) || s.EndsWithBreak() {
		t.Errorf("last line: end %d next %d", s.LineEnd(last), s.NextLine(last))
	}
	if s.BreakBefore(n-2) != s.LineEnd(0) {
		t.Errorf("breakBefore(line 2) = %d, want the CRLF at %d", s.BreakBefore(n-2), s.LineEnd(0))
	}
	if !New([]byte("a\n")).EndsWithBreak() || !New(nil).EndsWithBreak() {
		t.Error("endsWithBreak false for a terminated file")
	}
	if s.BlankLine(0) {
		t.Error("line 1 is not blank")
	}
	if !New([]byte("x\n  \t\ny")).BlankLine(2) {
		t.Error("blank line with spaces and a tab not blank")
	}
}

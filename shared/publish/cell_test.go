package publish

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCell(t *testing.T) {
	const wj = "\u2060"
	tests := []struct {
		name, in, want string
		max            int // 0: 300
	}{
		{"empty", "", "–", 0},
		{"blank", " \n\t", "–", 0},
		{"plain message", "Available: database is ready (3 replicas)", "Available: database is ready (3 replicas)", 0},
		{"claim and kind", "default/my-db.v1", "default/my-db.v1", 0},
		{"kind", "PostgreSQL.database.example.org", "PostgreSQL.database.example.org", 0},
		{"unicode kept", "Größe ok – 😀", "Größe ok – 😀", 0},
		{"numbers and dashes", "retry 3/5 in 10s, code 500-2", "retry 3/5 in 10s, code 500-2", 0},
		{"pipe", "a|b", `a\|b`, 0},
		{"escaped pipe", `a\|b`, `a\\\|b`, 0},
		{"newlines", "line1\r\nline2\tend", "line1 line2 end", 0},
		{"html comment", "<!-- hide", "&lt;!-- hide", 0},
		{"tag", `<img src=x onerror=alert(1)>`, "&lt;img src=x onerror=alert(1)&gt;", 0},
		{"entity", "&#64;admin &amp;", "&amp;#" + wj + "64;admin &amp;amp;", 0},
		{"markdown", "*bold* _it_ `code` [link](http://x) ~del~", `\*bold\* \_it\_ ` + "\\`code\\`" + ` \[link\](http://x) \~del\~`, 0},
		{"mention", "ping @octocat and @org/team", "ping @" + wj + "octocat and @" + wj + "org/team", 0},
		{"email stays readable", "mail ops@example.org", "mail ops@" + wj + "example.org", 0},
		{"reference", "see #123, GH-7 and o/r#9", "see #" + wj + "123, GH" + wj + "-7 and o/r#" + wj + "9", 0},
		{"hash without digit", "C# and #tag", "C# and #tag", 0},
		{"closing keyword", "Fixes #1", "Fixes" + wj + " #" + wj + "1", 0},
		{"closing keyword with colon and URL", "resolved: https://github.com/o/r/issues/2", "resolved" + wj + ": https://github.com/o/r/issues/2", 0},
		{"closing keyword in prose", "fixed the volume", "fixed the volume", 0},
		{"C0 and DEL", "a\x00b\x1bc\x7fd", "a\uFFFDb\uFFFDc\uFFFDd", 0},
		{"C1", "a\u0085b\u009bc", "a\uFFFDb\uFFFDc", 0},
		{"bidi override and isolate", "abc\u202Efed\u2066x\u2069\u200F", "abc\uFFFDfed\uFFFDx\uFFFD\uFFFD", 0},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb", 0},
		{"not cut at the limit", strings.Repeat("x", 12), strings.Repeat("x", 12), 12},
		{"cut", strings.Repeat("x", 13), "xxxxxxxxx…", 12},
		{"cut keeps characters whole", "ab😀cd", "ab…", 6},
		{"cut trims blanks", "abcd      xyz", "abcd…", 12},
		{"cut before escaping", strings.Repeat("<", 13), strings.Repeat("&lt;", 9) + "…", 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.max
			if n == 0 {
				n = 300
			}
			if got := Cell(tt.in, n); got != tt.want {
				t.Errorf("Cell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestCellCutsAtCharacters cuts multi-byte text at every length: the
// result is valid UTF-8 within the bound.
func TestCellCutsAtCharacters(t *testing.T) {
	in := strings.Repeat("é😀ä", 40)
	for n := 0; n < len(in)+2; n++ {
		got := Cell(in, n)
		if !utf8.ValidString(got) {
			t.Fatalf("Cell(_, %d) = %q: invalid UTF-8", n, got)
		}
		if len(got) > max(n, 4)*5 {
			t.Fatalf("Cell(_, %d) is %d bytes", n, len(got))
		}
	}
}

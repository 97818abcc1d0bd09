package publish

import (
	"strings"
	"testing"
)

// TestWindowDiff: within the window it is unifiedDiff exactly (line
// numbers counted from the files' start); past it the diff stops at the
// window with a line saying so, without the windows' unequal ends.
func TestWindowDiff(t *testing.T) {
	lines := func(from, to int, mark map[int]string) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			if m, ok := mark[i]; ok {
				b.WriteString(m + "\n")
				continue
			}
			b.WriteString("line " + string(rune('a'+i%26)) + strings.Repeat("x", i%7) + "\n")
		}
		return b.String()
	}
	a := lines(1, 40, nil)
	small := lines(1, 40, map[int]string{20: "CHANGED"})
	tests := []struct {
		name   string
		b      string
		window int
		want   string
	}{
		{"equal", a, 64, ""},
		{"inside the window: as unifiedDiff", small, 1 << 20, unifiedDiff("a/f", "b/f", []byte(a), []byte(small), 3)},
		{"first change only, the second past the window",
			lines(1, 40, map[int]string{20: "CHANGED", 38: "LATE"}), 200,
			"--- a/f\n+++ b/f\n@@ -17,7 +17,7 @@\n line rxxx\n line sxxxx\n line txxxxx\n-line uxxxxxx\n+CHANGED\n line v\n line wx\n line xxx\n" +
				"… diff shown for 200 bytes from the first change only\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := windowDiff("a/f", "b/f", []byte(a), []byte(tt.b), 3, tt.window); got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

package publish

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "x\n", "x\n", ""},
		{"one line changed", "a\nb\nc\nd\ne\n", "a\nb\nC\nd\ne\n",
			"--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n"},
		{"from empty", "", "a\nb\n",
			"--- a/f\n+++ b/f\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"to empty", "a\n", "",
			"--- a/f\n+++ b/f\n@@ -1,1 +0,0 @@\n-a\n"},
		{"missing final newline", "a\nb", "a\nb\n",
			"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
		{"far apart changes give two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "X\n2\n3\n4\n5\n6\n7\n8\nY\n",
			"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-1\n+X\n 2\n@@ -8,2 +8,2 @@\n 8\n-9\n+Y\n"},
		{"close changes share a hunk", "1\n2\n3\n4\n5\n", "X\n2\n3\n4\nY\n",
			"--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n-1\n+X\n 2\n 3\n 4\n-5\n+Y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 1
			if tt.name == "close changes share a hunk" {
				n = 2
			}
			got := unifiedDiff("a/f", "b/f", []byte(tt.a), []byte(tt.b), n)
			if got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// applyUnified applies a diff made by unifiedDiff to a, checking every
// context and removed line, so the property test proves diffs are exact.
func applyUnified(t *testing.T, a, diff string) string {
	t.Helper()
	src := splitLines([]byte(a))
	lines := strings.SplitAfter(diff, "\n")
	var out []string
	pos := 0
	for i := 2; i < len(lines) && lines[i] != ""; i++ {
		l := lines[i]
		if strings.HasPrefix(l, "@@") {
			var as, al, bs, bl int
			if _, err := fmt.Sscanf(l, "@@ -%d,%d +%d,%d @@", &as, &al, &bs, &bl); err != nil {
				t.Fatalf("bad header %q", l)
			}
			if al > 0 {
				as--
			}
			out = append(out, src[pos:as]...)
			pos = as
			continue
		}
		text := l[1:]
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\\ No newline") {
			text = strings.TrimSuffix(text, "\n")
			i++
		}
		switch l[0] {
		case ' ', '-':
			if pos >= len(src) || src[pos] != text {
				t.Fatalf("line %d: diff says %q, file has %q", pos, text, src[min(pos, len(src)-1)])
			}
			pos++
			if l[0] == ' ' {
				out = append(out, text)
			}
		case '+':
			out = append(out, text)
		}
	}
	return strings.Join(append(out, src[pos:]...), "")
}

func TestUnifiedDiffAppliesExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(n int) string {
		var b strings.Builder
		for range n {
			// A small alphabet makes repeated lines, the hard case.
			b.WriteString("line " + strconv.Itoa(rng.IntN(8)) + "\n")
		}
		if rng.IntN(4) == 0 {
			b.WriteString("tail")
		}
		return b.String()
	}
	for i := range 300 {
		a, b := gen(rng.IntN(40)), gen(rng.IntN(40))
		if i%2 == 0 { // related files: b is a mutated copy of a
			ls := splitLines([]byte(a))
			for j := range ls {
				if rng.IntN(5) == 0 {
					ls[j] = "changed " + strconv.Itoa(j) + "\n"
				}
			}
			b = strings.Join(ls, "") + gen(rng.IntN(3))
		}
		d := unifiedDiff("a", "b", []byte(a), []byte(b), rng.IntN(4))
		if got := applyUnified(t, a, d); got != b {
			t.Fatalf("case %d: applying the diff gives\n%q\nwant\n%q\ndiff:\n%s", i, got, b, d)
		}
	}
}

func TestUnifiedDiffLargeRegistry(t *testing.T) {
	var a, b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&a, "  - claimRef: ns/claim-%d\n    statusMessage: Ready\n    lastCheckedAt: \"2026-01-01T00:00:00Z\"\n", i)
		msg, at := "Ready", "2026-01-01T00:00:00Z"
		if i%20 == 0 {
			msg, at = "NotReady", "2026-02-02T00:00:00Z"
		}
		fmt.Fprintf(&b, "  - claimRef: ns/claim-%d\n    statusMessage: %s\n    lastCheckedAt: \"%s\"\n", i, msg, at)
	}
	d := unifiedDiff("a", "b", []byte(a.String()), []byte(b.String()), 3)
	if got := strings.Count(d, "\n-    statusMessage: Ready"); got != 1000 {
		t.Fatalf("%d status lines removed, want 1000", got)
	}
	if got := applyUnified(t, a.String(), d); got != b.String() {
		t.Fatal("large diff does not apply")
	}
}

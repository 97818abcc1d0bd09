package registry

import (
	"errors"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

func mapping(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}

func TestReadFieldsAndIdentity(t *testing.T) {
	cases := []struct {
		src, layout string
		ns, name    string
		ok          bool
	}{
		{"claimRef: d/x\nname: other\nnamespace: n", LayoutClusters, "n", "other", true},
		{"claimRef: postgresqls.2.2.2/my-db\nname: my-db\nnamespace: default", LayoutClusters, "default", "my-db", true},
		{"claimRef: d/x\nname: other\nnamespace: ''", LayoutClusters, "d", "x", true},
		{"claimRef: d/x\nname: other", LayoutClusters, "d", "x", true},
		{"name: x\nnamespace: d", LayoutClusters, "d", "x", true},
		{"claimRef: ''\nname: x\nnamespace: d", LayoutClusters, "d", "x", true},
		{"claimRef: noslash", LayoutClusters, "noslash", "", false},
		{"claimRef: d/x", LayoutClaimRegistry, "", "", false},
		{"name: x\nnamespace: ''", LayoutClaimRegistry, "", "x", false},
		{"name: x\nnamespace: [d]", LayoutClaimRegistry, "", "x", false},
		{"name: x\nnamespace: d\nkind: K", LayoutClaimRegistry, "d", "x", true},
	}
	for _, tc := range cases {
		f, err := readFields(mapping(t, tc.src), yamlsrc.TopCtx)
		if err != nil {
			t.Fatal(err)
		}
		ns, name, _, ok := f.identity(tc.layout)
		if ns != tc.ns || name != tc.name || ok != tc.ok {
			t.Errorf("%q (%s): %q %q %v, want %q %q %v", tc.src, tc.layout, ns, name, ok, tc.ns, tc.name, tc.ok)
		}
	}
}

func TestReadFieldsDuplicate(t *testing.T) {
	_, err := readFields(mapping(t, "name: a\nother: 1\nname: b\n"), yamlsrc.TopCtx)
	var e *Error
	if !errors.As(err, &e) || e.Line != 3 || !errors.Is(err, ErrInvalidYAML) {
		t.Errorf("err = %v", err)
	}
	if _, err := readFields(mapping(t, "x: 1\nx: 2\n"), yamlsrc.TopCtx); err != nil {
		t.Errorf("unknown keys are not checked: %v", err)
	}
}

func TestScalarTextAndIsTrue(t *testing.T) {
	m := mapping(t, "a: &x text\nb: *x\nc: ~\nd: [1]\ne: true\nf: \"true\"\ng: True\nh: yes\n")
	f := map[string]*yaml.Node{}
	for i := 0; i < len(m.Content); i += 2 {
		f[m.Content[i].Value] = m.Content[i+1]
	}
	for key, want := range map[string]string{"a": "text", "b": "text", "c": ""} {
		if got, ok := scalarText(f[key]); !ok || got != want {
			t.Errorf("%s: %q %v", key, got, ok)
		}
	}
	if _, ok := scalarText(f["d"]); ok {
		t.Error("a list is not text")
	}
	if got, ok := scalarText(nil); got != "" || !ok {
		t.Error("absent is empty text")
	}
	for key, want := range map[string]bool{"e": true, "f": false, "g": true, "h": false, "a": false} {
		if isTrue(f[key]) != want {
			t.Errorf("isTrue(%s) != %v", key, want)
		}
	}
}

package registry

import (
	"errors"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

func TestDetect(t *testing.T) {
	cases := []struct {
		name, src string
		layout    string
		parts     int
	}{
		{"clusters", "a:\n  - claimRef: d/x\nb: []\nc:\n", LayoutClusters, 1},
		{"claim registry", "apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\nclaims: []\n", LayoutClaimRegistry, 1},
		{"other version", "apiVersion: claim-registry.io/v1beta2\nkind: ClaimRegistry\n", LayoutClaimRegistry, 1},
		{"leading empty document", "---\n---\na: []\n", LayoutClusters, 1},
		{"every document of the layout", "a: []\n---\nb: []\n---\n", LayoutClusters, 2},
		{"documents without a layout are skipped", "- x\n---\na: []\n---\nplain\n", LayoutClusters, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := parseDocs([]byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			layout, parts, err := detect(yamlsrc.New([]byte(tc.src)), docs)
			if err != nil {
				t.Fatal(err)
			}
			if layout != tc.layout || len(parts) != tc.parts {
				t.Errorf("layout %q with %d documents, want %q with %d", layout, len(parts), tc.layout, tc.parts)
			}
		})
	}
}

// With no document of a layout, the first reason given is the error.
func TestDetectReason(t *testing.T) {
	src := "---\n- x\n---\na: b\n"
	docs, err := parseDocs([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = detect(yamlsrc.New([]byte(src)), docs)
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || !errors.Is(err, ErrUnknownLayout) {
		t.Errorf("err = %v", err)
	}
}

func TestYAMLErrorLine(t *testing.T) {
	_, err := parseDocs([]byte("a: 1\nb: [\n"))
	var e *Error
	if !errors.As(err, &e) || e.Line == 0 || !errors.Is(err, ErrInvalidYAML) {
		t.Fatalf("err = %#v", err)
	}
	if _, err := parseDocs([]byte("a: \x01\n")); err == nil || !errors.Is(err, ErrInvalidYAML) {
		t.Errorf("control character: %v", err)
	}
}

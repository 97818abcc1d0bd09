package registry

import (
	"errors"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

const crHead = "apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\n"

func TestClaimRegistryClaimsList(t *testing.T) {
	entry := "- name: x\n  namespace: d\n  clusters:\n    a:\n      ready: \"True\"\n      statusMessage: m\n      lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n"
	recs := []status.Record{mkrec("a", "d/x", "True", "m")}
	t.Run("no claims key", func(t *testing.T) {
		applyCase(t, crHead, recs, add, crHead+"claims:\n  "+indentText(entry, "  "))
	})
	t.Run("empty list", func(t *testing.T) {
		applyCase(t, crHead+"claims: [] # none yet\n", recs, add, crHead+"claims: # none yet\n  "+indentText(entry, "  "))
	})
	t.Run("null", func(t *testing.T) {
		applyCase(t, crHead+"claims:\n", recs, add, crHead+"claims:\n  "+indentText(entry, "  "))
	})
}

// indentText indents every line after the first by pad.
func indentText(s, pad string) string {
	out := ""
	for i, c := range s {
		out += string(c)
		if c == '\n' && i+1 < len(s) {
			out += pad
		}
	}
	return out
}

// Existing status maps set the indentation of new ones.
func TestClaimRegistryStatusIndentation(t *testing.T) {
	src := crHead + "claims:\n- name: x\n  namespace: d\n  clusters:\n     a:\n        statusMessage: m\n- name: y\n  namespace: d\n"
	applyCase(t, src, []status.Record{mkrec("b", "d/x", "", "m"), mkrec("a", "d/y", "", "m")}, Options{},
		crHead+"claims:\n- name: x\n  namespace: d\n  clusters:\n     a:\n        statusMessage: m\n     b:\n        statusMessage: m\n        lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n"+
			"- name: y\n  namespace: d\n  clusters:\n     a:\n        statusMessage: m\n        lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
}

// An empty status (`a:` or `a: ~`) is filled; a deleted claim creates
// nothing where no status was recorded.
func TestClaimRegistryEmptyStatus(t *testing.T) {
	src := crHead + "claims:\n- name: x\n  namespace: d\n  clusters:\n    a:\n    b: ~ # later\n"
	rep := applyCase(t, src, []status.Record{mkrec("a", "d/x", "", "m"), mkrec("b", "d/x", "True", "n"), deleted(mkrec("c", "d/x", "", "m"))}, Options{},
		crHead+"claims:\n- name: x\n  namespace: d\n  clusters:\n    a:\n      statusMessage: m\n      lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n    b: # later\n      ready: \"True\"\n      statusMessage: \"n\"\n      lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
	if len(rep.Changed) != 2 || len(rep.Deleted) != 0 {
		t.Errorf("report %+v", rep)
	}
}

func TestClaimRegistryUnsupported(t *testing.T) {
	cases := map[string]string{
		"flow status map":  crHead + "claims:\n- name: x\n  namespace: d\n  clusters: {a: {statusMessage: m}}\n",
		"clusters is list": crHead + "claims:\n- name: x\n  namespace: d\n  clusters: [a]\n",
		"status is text":   crHead + "claims:\n- name: x\n  namespace: d\n  clusters:\n    a: ok\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := applyBoth(t, []byte(src), []status.Record{mkrec("b", "d/x", "True", "m"), mkrec("a", "d/x", "True", "m")}, Options{})
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

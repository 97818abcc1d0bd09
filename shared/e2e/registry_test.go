package e2e

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// seedRegistry is the registry file on the base branch: the clusters
// layout with a ready key per entry (so the check covers the Ready status
// as well as the message), listing every claim except every tenth, which
// the reconcile must add (REGISTRY_ADD_MISSING=true).
func seedRegistry(cs []*cluster) string {
	var b strings.Builder
	b.WriteString("# Claims of the e2e fleet. machinery-status-collector keeps statusMessage,\n# ready and lastCheckedAt current; everything else is ours.\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "%s:\n", c.name)
		for i, id := range c.claims {
			if i%10 == 9 {
				continue
			}
			fmt.Fprintf(&b, "  - name: %s\n    namespace: %s\n    claimRef: %s/%s\n    statusMessage: unknown\n    ready: \"Unknown\"\n    lastCheckedAt: \"2026-01-01T00:00:00Z\"\n    owner: team-%s\n",
				id.name, c.ns, c.ns, id.name, c.name)
		}
	}
	return b.String()
}

// registryEntry is the part of a clusters-layout entry the check reads.
type registryEntry struct {
	Name          string `yaml:"name"`
	Namespace     string `yaml:"namespace"`
	ClaimRef      string `yaml:"claimRef"`
	StatusMessage string `yaml:"statusMessage"`
	Ready         string `yaml:"ready"`
}

// diffRegistry compares a registry file with the truth and returns every
// difference (empty when they agree): a claim missing, listed twice or
// with another status, a cluster or claim the truth does not know.
func diffRegistry(file []byte, want map[string]map[string]expected) ([]string, error) {
	var got map[string][]registryEntry
	if err := yaml.Unmarshal(file, &got); err != nil {
		return nil, fmt.Errorf("parse registry file: %w", err)
	}
	var diffs []string
	for cl, entries := range got {
		w, ok := want[cl]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected cluster %q in the registry", cl))
			continue
		}
		seen := map[string]bool{}
		for _, e := range entries {
			ref := e.ClaimRef
			if ref == "" {
				ref = e.Namespace + "/" + e.Name
			}
			if seen[ref] {
				diffs = append(diffs, fmt.Sprintf("%s %s listed twice", cl, ref))
			}
			seen[ref] = true
			x, ok := w[ref]
			switch {
			case !ok:
				diffs = append(diffs, fmt.Sprintf("%s %s is not a claim of that cluster", cl, ref))
			case e.StatusMessage != x.msg || e.Ready != x.ready:
				diffs = append(diffs, fmt.Sprintf("%s %s: registry %s %q, cluster %s %q", cl, ref, e.Ready, e.StatusMessage, x.ready, x.msg))
			}
		}
		for ref := range w {
			if !seen[ref] {
				diffs = append(diffs, fmt.Sprintf("%s %s missing from the registry", cl, ref))
			}
		}
	}
	for cl := range want {
		if _, ok := got[cl]; !ok {
			diffs = append(diffs, fmt.Sprintf("cluster %s missing from the registry", cl))
		}
	}
	sort.Strings(diffs)
	return diffs, nil
}

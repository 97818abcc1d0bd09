package reconcile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// holdings is what a registry file holds: in the clusters layout its
// cluster keys; in a ClaimRegistry the namespace/name of its claims,
// which records of any cluster may match.
type holdings struct {
	clusters []string
	claims   map[string]bool // "namespace/name"; non-nil for a ClaimRegistry
}

// deps lists the clusters a file's output depends on.
func (h holdings) deps() []string {
	if h.claims != nil {
		return []string{anyCluster}
	}
	return h.clusters
}

// wants reports whether a record of another file's cluster may match an
// entry of this ClaimRegistry.
func (h holdings) wants(r status.Record) bool {
	return h.claims[r.ClaimRef]
}

// scanHoldings reads which clusters or claims a registry file holds, for
// routing records in a glob of files. It parses the file with yaml.v3
// (the registry package checks the layout precisely when it applies).
func scanHoldings(path string, src []byte) (holdings, error) {
	var h holdings
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return h, nil
		}
		if err != nil {
			return h, fmt.Errorf("registry %s: %w", path, err)
		}
		if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := doc.Content[0]
		if kind := value(m, "kind"); kind != nil && kind.Value == "ClaimRegistry" {
			if h.claims == nil {
				h.claims = map[string]bool{}
			}
			claims := value(m, "claims")
			if claims == nil || claims.Kind != yaml.SequenceNode {
				continue
			}
			for _, c := range claims.Content {
				ns, name := value(c, "namespace"), value(c, "name")
				if name == nil {
					continue
				}
				n := ""
				if ns != nil {
					n = ns.Value
				}
				h.claims[n+"/"+name.Value] = true
			}
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := m.Content[i]; k.Kind == yaml.ScalarNode && !strings.HasPrefix(k.Value, "#") {
				h.clusters = append(h.clusters, k.Value)
			}
		}
	}
}

// value is the value of key in mapping m (nil when absent).
func value(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

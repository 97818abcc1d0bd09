package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// Layouts a registry file can have; Report.Layout holds one of them.
const (
	// LayoutClusters is the seed's layout: a top-level mapping from cluster
	// name to a list of claim entries.
	LayoutClusters = "clusters"
	// LayoutClaimRegistry is `kind: ClaimRegistry` with a `claims:` list.
	LayoutClaimRegistry = "claimregistry"
)

const claimRegistryGroup = "claim-registry.io/"

// document is one YAML document of the file that takes part in the edit.
type document struct {
	root *yaml.Node  // the top-level mapping
	c    yamlsrc.Ctx // context of the root mapping's keys and values
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocs parses every document of src. Errors name the line.
func parseDocs(src []byte) (docs []*yaml.Node, err error) {
	if bytes.HasPrefix(src, []byte{0xFE, 0xFF}) || bytes.HasPrefix(src, []byte{0xFF, 0xFE}) {
		return nil, errAt(1, ErrInvalidYAML, "invalid YAML: UTF-16 files are not supported, save the registry as UTF-8")
	}
	if !utf8.Valid(src) {
		bad := 0
		for bad < len(src) {
			r, w := utf8.DecodeRune(src[bad:])
			if r == utf8.RuneError && w <= 1 {
				break
			}
			bad += w
		}
		return nil, errAt(bytes.Count(src[:bad], []byte("\n"))+1, ErrInvalidYAML, "invalid YAML: not valid UTF-8")
	}
	defer func() {
		// yaml.v3 panics on a few malformed inputs; a broken file must
		// fail the run, not the process.
		if r := recover(); r != nil {
			docs, err = nil, &Error{Msg: fmt.Sprintf("invalid YAML: %v", r), Err: ErrInvalidYAML}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, yamlError(err)
		}
		docs = append(docs, &n)
	}
}

func yamlError(err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Line: line, Msg: "invalid YAML: " + m[2], Err: errors.Join(ErrInvalidYAML, err)}
	}
	return &Error{Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: "), Err: errors.Join(ErrInvalidYAML, err)}
}

// detect picks the layout and the documents to edit. The layout is that
// of the first document that has one; every later document of the same
// layout is edited too (a ClaimRegistry split over several documents
// still works). Documents without a layout, such as an empty one after
// a trailing "---", are left as they are. A document with the other
// layout is an error: one file holds one layout.
func detect(s *yamlsrc.Source, docs []*yaml.Node) (string, []document, error) {
	var (
		layout string
		parts  []document
		first  *Error
	)
	for i, d := range docs {
		if len(d.Content) == 0 {
			continue
		}
		root := d.Content[0]
		l, why := classify(root)
		if l == "" {
			if first == nil && why != nil {
				first = why
			}
			continue
		}
		if layout != "" && l != layout {
			return "", nil, errAt(root.Line, ErrUnknownLayout, "document %d is a %s but an earlier document is a %s; one file holds one layout", i+1, layoutName(l), layoutName(layout))
		}
		layout = l
		parts = append(parts, document{root: root, c: s.ChildCtx(root, yamlsrc.TopCtx)})
	}
	if layout == "" {
		if first == nil {
			first = errAt(1, ErrUnknownLayout, "the file is empty; want a mapping of clusters to claim lists or a ClaimRegistry")
		}
		return "", nil, first
	}
	return layout, parts, nil
}

func layoutName(l string) string {
	if l == LayoutClaimRegistry {
		return "ClaimRegistry"
	}
	return "clusters map"
}

// classify says which layout a document's root has, or why it has none
// (nil for a document that is empty and simply skipped).
func classify(root *yaml.Node) (string, *Error) {
	switch root.Kind {
	case yaml.MappingNode:
	case yaml.ScalarNode:
		if root.ShortTag() == "!!null" {
			return "", nil
		}
		return "", errAt(root.Line, ErrUnknownLayout, "the document is a single value; want a mapping of clusters to claim lists or a ClaimRegistry")
	default:
		return "", errAt(root.Line, ErrUnknownLayout, "the document is %s; want a mapping of clusters to claim lists or a ClaimRegistry", kindName(root))
	}
	if len(root.Content) == 0 {
		return "", errAt(root.Line, ErrUnknownLayout, "the document is an empty mapping; want a mapping of clusters to claim lists or a ClaimRegistry")
	}
	if kind := mapValue(root, "kind"); kind != nil && kind.Kind == yaml.ScalarNode && kind.Value == "ClaimRegistry" {
		api := mapValue(root, "apiVersion")
		if api == nil || api.Kind != yaml.ScalarNode || !strings.HasPrefix(api.Value, claimRegistryGroup) {
			got := "none"
			if api != nil {
				got = strconv.Quote(api.Value)
			}
			return "", errAt(kind.Line, ErrUnknownLayout, "kind ClaimRegistry with apiVersion %s; want %sv1alpha1", got, claimRegistryGroup)
		}
		return LayoutClaimRegistry, nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return "", errAt(k.Line, ErrUnknownLayout, "top-level key is %s; a clusters map has cluster names as keys", kindName(k))
		}
		if l := resolve(v); l == nil || l.Kind != yaml.SequenceNode && !isNull(v) {
			return "", errAt(v.Line, ErrUnknownLayout, "top-level key %q holds %s, not a list of claims (and the file is no ClaimRegistry)", k.Value, kindName(v))
		}
	}
	return LayoutClusters, nil
}

// kindName names a node's kind with its article, for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "a node"
}

// isNull reports an empty or null scalar (`key:`, `key: ~`, `key: null`).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// mapValue is the value of key in mapping m (nil when absent).
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

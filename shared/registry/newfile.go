package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// NewFile returns a registry file for one cluster that has none yet (a
// sharded registry, REGISTRY_FILE_PATH=registry/{cluster}.yaml), holding
// records as added claims, in the style of example (another cluster's
// file): its header (comments, apiVersion, kind, metadata) and the shape
// of its entries (indentation, key order, quoting). It works by trimming
// example to its first entry, letting Apply append the new entries in
// that entry's style, and cutting the first entry out again; when that
// cannot be done byte-exactly (a multi-document or flow-style example,
// or a record that matches the kept entry), or example is nil, the file
// is a bare clusters map "<cluster>:" (or, for a ClaimRegistry example,
// the bare ClaimRegistry) filled by Apply in its default style.
func NewFile(example []byte, cluster string, records []status.Record) ([]byte, Report, error) {
	opts := Options{AddMissing: true}
	if example != nil {
		if t, cutFrom, cutTo, ok := trimExample(example); ok {
			out, rep, err := Apply(t, records, opts)
			if err == nil && len(out) >= cutTo && bytes.Equal(out[:cutTo], t[:cutTo]) && allAdded(rep, records) {
				return append(append([]byte{}, out[:cutFrom]...), out[cutTo:]...), rep, nil
			}
		}
	}
	skeleton := []byte(cluster + ":\n")
	if example != nil && bytes.Contains(example, []byte("ClaimRegistry")) {
		skeleton = []byte("apiVersion: " + claimRegistryGroup + "v1alpha1\nkind: ClaimRegistry\nclaims:\n")
	}
	out, rep, err := Apply(skeleton, records, opts)
	if err != nil {
		return nil, Report{}, fmt.Errorf("new registry file for cluster %s: %w", cluster, err)
	}
	return out, rep, nil
}

// allAdded reports whether every live record became a new entry (none
// matched the entry kept from the example).
func allAdded(rep Report, records []status.Record) bool {
	live := 0
	for _, r := range records {
		if !r.Deleted {
			live++
		}
	}
	added := 0
	for _, m := range rep.Missing {
		if m.Added {
			added++
		}
	}
	return added == live && len(rep.Deleted) == 0
}

// trimExample cuts example down to its header and first entry, returning
// the trimmed text t and the byte range [cutFrom, cutTo) of t that the
// first entry (with its cluster key in the clusters layout) occupies.
func trimExample(example []byte) (t []byte, cutFrom, cutTo int, ok bool) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(example))
	if err := dec.Decode(&root); err != nil || len(root.Content) != 1 {
		return nil, 0, 0, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, 0, 0, false // several documents: keep it simple
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
		return nil, 0, 0, false
	}
	lines := lineStarts(example)
	off := func(line int) int { // 1-based line -> offset; past the end -> len
		if line-1 < len(lines) {
			return lines[line-1]
		}
		return len(example)
	}
	// trimBack moves a cut back over blank and comment lines, so the kept
	// entry ends where Apply inserts after it.
	trimBack := func(line int) int {
		for line > 1 {
			l := bytes.TrimSpace(example[off(line-1):off(line)])
			if len(l) != 0 && l[0] != '#' {
				break
			}
			line--
		}
		return line
	}
	next := func(i int) int { // line of the root key after pair i, or EOF
		if i+2 < len(m.Content) {
			return m.Content[i+2].Line
		}
		return len(lines) + 1
	}
	if v := mapValue(m, "kind"); v != nil && v.Value == "ClaimRegistry" {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value != "claims" {
				continue
			}
			seq := m.Content[i+1]
			if seq.Kind != yaml.SequenceNode || seq.Style&yaml.FlowStyle != 0 || len(seq.Content) == 0 || !dashLine(example, off, seq.Content[0].Line) {
				return nil, 0, 0, false
			}
			end := next(i)
			if len(seq.Content) > 1 {
				end = seq.Content[1].Line
			}
			keep := trimBack(end)
			t = append(append([]byte{}, example[:off(keep)]...), example[off(next(i)):]...)
			return t, off(seq.Content[0].Line), off(keep), true
		}
		return nil, 0, 0, false
	}
	v := m.Content[1]
	end := next(0)
	if v.Kind == yaml.SequenceNode && len(v.Content) > 1 {
		end = v.Content[1].Line
	}
	if v.Kind == yaml.SequenceNode && (v.Style&yaml.FlowStyle != 0 || len(v.Content) > 0 && !dashLine(example, off, v.Content[0].Line)) {
		return nil, 0, 0, false
	}
	keep := trimBack(end)
	return example[:off(keep)], off(m.Content[0].Line), off(keep), true
}

// dashLine reports whether a list item's first line holds its dash.
func dashLine(src []byte, off func(int) int, line int) bool {
	return bytes.HasPrefix(bytes.TrimLeft(src[off(line):off(line+1)], " "), []byte("-"))
}

// lineStarts lists the offset of each line.
func lineStarts(b []byte) []int {
	starts := []int{0}
	for i, c := range b {
		if c == '\n' && i+1 < len(b) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

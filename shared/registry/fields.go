package registry

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// field is a key of an entry (or of a per-cluster status map) that this
// package reads or writes. Every other key is left alone.
type field int

const (
	fName field = iota
	fNamespace
	fClaimRef
	fKind
	fStatusMessage
	fReady
	fLastCheckedAt
	fDeleted
	fClusters
	nFields
)

var fieldNames = [nFields]string{"name", "namespace", "claimRef", "kind", "statusMessage", "ready", "lastCheckedAt", "deleted", "clusters"}

func fieldOf(key string) (field, bool) {
	switch key {
	case "name":
		return fName, true
	case "namespace":
		return fNamespace, true
	case "claimRef":
		return fClaimRef, true
	case "kind":
		return fKind, true
	case "statusMessage":
		return fStatusMessage, true
	case "ready":
		return fReady, true
	case "lastCheckedAt":
		return fLastCheckedAt, true
	case "deleted":
		return fDeleted, true
	case "clusters":
		return fClusters, true
	}
	return 0, false
}

// fields is a mapping with the keys this package knows picked out.
type fields struct {
	n   *yaml.Node  // the mapping
	c   yamlsrc.Ctx // context of its keys and values
	key [nFields]*yaml.Node
	val [nFields]*yaml.Node
	// merged marks keys that come through a merge key (`<<: *base`).
	merged [nFields]bool
}

// readFields picks the known keys out of mapping m, whose keys and values
// sit in context c. A known key given twice is an error: YAML forbids it
// and which one counts would be a guess.
func readFields(m *yaml.Node, c yamlsrc.Ctx) (*fields, error) {
	return readFieldsInto(&fields{}, m, c)
}

// readFieldsInto is readFields filling f, which the caller allocated.
// Keys the mapping lacks are read through its merge keys.
func readFieldsInto(f *fields, m *yaml.Node, c yamlsrc.Ctx) (*fields, error) {
	f.n, f.c = m, c
	hasMerge := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if isMergeKey(k) {
			hasMerge = true
			continue
		}
		fld, ok := fieldOf(k.Value)
		if !ok {
			continue
		}
		if prev := f.key[fld]; prev != nil {
			return nil, errAt(k.Line, ErrInvalidYAML, "invalid YAML: duplicate key %q (first at line %d)", k.Value, prev.Line)
		}
		f.key[fld], f.val[fld] = k, m.Content[i+1]
	}
	if hasMerge {
		budget := maxMerges
		for i := 0; i+1 < len(m.Content); i += 2 {
			if isMergeKey(m.Content[i]) {
				f.merge(m.Content[i+1], &budget)
			}
		}
	}
	return f, nil
}

// text is the string value of fld: "" when absent or null; ok is false
// when the value is a mapping or a list.
func (f *fields) text(fld field) (string, bool) {
	return scalarText(f.val[fld])
}

func scalarText(v *yaml.Node) (string, bool) {
	if v == nil {
		return "", true
	}
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind != yaml.ScalarNode {
		return "", false
	}
	if v.ShortTag() == "!!null" {
		return "", true
	}
	return v.Value, true
}

// isTrue reports a YAML boolean true (`deleted: true`).
func isTrue(v *yaml.Node) bool {
	if v != nil && v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
		return false
	}
	return v.Value == "true" || v.Value == "True" || v.Value == "TRUE"
}

// identity is the claim an entry stands for. An entry with both a
// namespace and a name stands for them: the seed's own registry writes
// claimRef as "<resource>/<name>" (postgresqls.2.2.2/my-db), which is no
// claim reference at all. In the clusters layout an entry without them
// falls back on a non-empty claimRef ("namespace/name"); a ClaimRegistry
// entry has only namespace and name. An empty namespace or name matches
// no claim (the reference file has one entry with namespace "").
// byRef says the claimRef decided.
func (f *fields) identity(layout string) (ns, name string, byRef, ok bool) {
	ns, ok1 := f.text(fNamespace)
	name, ok2 := f.text(fName)
	if ok1 && ok2 && ns != "" && name != "" {
		return ns, name, false, true
	}
	if layout == LayoutClusters {
		if ref, isText := f.text(fClaimRef); isText && ref != "" {
			ns, name, _ = strings.Cut(ref, "/")
			return ns, name, true, ns != "" && name != ""
		}
	}
	return ns, name, false, false
}

// refDiffers returns the entry's claimRef when it names another claim
// than its namespace and name, which decided the match: worth a note in
// the pull request, since a reader of the entry would expect the claimRef
// to count.
func (f *fields) refDiffers(ns, name string) (string, bool) {
	ref, isText := f.text(fClaimRef)
	return ref, isText && ref != "" && ref != ns+"/"+name
}

// kind is the entry's kind key ("" when absent or not a value).
func (f *fields) kind() string {
	k, _ := f.text(fKind)
	return k
}

// readEntries reads the mapping items of list, whose items sit in
// context c under a key at column pk, into fields from fs, learns the
// file's style from them and hands each to visit. It returns the last
// block entry, which new entries of this list copy.
func (p *planner) readEntries(list *yaml.Node, c yamlsrc.Ctx, pk int, fs *slab[fields], visit func(f *fields, item *yaml.Node) error) (*fields, error) {
	var last *fields
	for _, item := range list.Content {
		if m := resolve(item); item.Kind == yaml.AliasNode && m != nil && m.Kind == yaml.MappingNode {
			// `- *e`: the entry it names stands here too. Its context is
			// unknown here; it is shared, so never written.
			f, err := readFieldsInto(fs.new(), m, c)
			if err != nil {
				return nil, err
			}
			if err := visit(f, item); err != nil {
				return nil, err
			}
			continue
		}
		if item.Kind != yaml.MappingNode {
			continue
		}
		f, err := readFieldsInto(fs.new(), item, p.s.ChildCtx(item, c))
		if err != nil {
			return nil, err
		}
		p.guide.sample(f)
		if !f.c.Flow {
			p.guide.sampleList(pk, c.Indent, f.c.Indent, f)
			last = f
		}
		if err := visit(f, item); err != nil {
			return nil, err
		}
	}
	return last, nil
}

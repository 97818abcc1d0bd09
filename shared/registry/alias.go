package registry

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// Anchors, aliases and merge keys. A YAML reader sees an aliased node
// wherever an alias (`*e`) or a merge key (`<<: *e`) names it, so an
// edit inside it would change every place that reads it: another
// cluster's entry would show this cluster's status. The editor therefore
// never changes in place a node that an alias reads, nor anything inside
// one; it leaves such an entry as written and says so in Report.Notes
// (failing the run instead would hold back every other claim's status
// over one entry a person can split by hand). Identities are read
// through merge keys and aliases, so a claim such an entry stands for is
// never appended again by AddMissing.

// sharedNodes returns every node that some alias reads: the targets of
// aliases and merge keys and everything below them. A file without
// anchors has none, and costs no walk.
func sharedNodes(src []byte, docs []*yaml.Node) map[*yaml.Node]bool {
	if !bytes.Contains(src, []byte("&")) {
		return nil
	}
	var targets []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode {
			if n.Alias != nil {
				targets = append(targets, n.Alias)
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, d := range docs {
		walk(d)
	}
	shared := map[*yaml.Node]bool{}
	var mark func(n *yaml.Node)
	mark = func(n *yaml.Node) {
		if n == nil || shared[n] {
			return
		}
		shared[n] = true
		mark(n.Alias)
		for _, c := range n.Content {
			mark(c)
		}
	}
	for _, t := range targets {
		mark(t)
	}
	return shared
}

// isMergeKey reports a `<<` merge key.
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// maxMerges bounds the mappings one entry's merge keys may bring in,
// merges of merges included: nested merge lists could otherwise make
// the work grow exponentially with the file ("billion laughs").
const maxMerges = 64

// merge fills the known keys f lacks from the mapping(s) that merge
// value v brings in: a mapping, an alias of one, or a list of those
// (earlier ones win, as in YAML). A merged mapping's own keys win over
// its own merges. Merged values are read, never written: see own.
func (f *fields) merge(v *yaml.Node, budget *int) {
	v = resolve(v)
	if v == nil || *budget <= 0 {
		return
	}
	*budget--
	switch v.Kind {
	case yaml.SequenceNode:
		for _, m := range v.Content {
			f.merge(m, budget)
		}
	case yaml.MappingNode:
		var nested []*yaml.Node
		for i := 0; i+1 < len(v.Content); i += 2 {
			k := v.Content[i]
			if isMergeKey(k) {
				nested = append(nested, v.Content[i+1])
				continue
			}
			if k.Kind != yaml.ScalarNode {
				continue
			}
			if fld, ok := fieldOf(k.Value); ok && f.key[fld] == nil {
				f.key[fld], f.val[fld], f.merged[fld] = k, v.Content[i+1], true
			}
		}
		for _, m := range nested {
			f.merge(m, budget)
		}
	}
}

// own reports that fld is the mapping's own key, which may be rewritten
// in place; a merged one is overridden by adding an own key instead.
func (f *fields) own(fld field) bool {
	return f.key[fld] != nil && !f.merged[fld]
}

// isShared reports that n is read through an alias somewhere, or is
// itself an alias or carries an anchor (an anchored value is kept as
// its anchor names it).
func (p *planner) isShared(n *yaml.Node) bool {
	return n != nil && (p.shared[n] || n.Kind == yaml.AliasNode || n.Anchor != "")
}

// slotShared reports a slot the editor must leave: the mapping, or a
// status value it would rewrite, is shared.
func (p *planner) slotShared(f *fields) bool {
	if p.shared[f.n] {
		return true
	}
	for _, fld := range [...]field{fStatusMessage, fReady, fLastCheckedAt, fDeleted} {
		if f.own(fld) && p.isShared(f.val[fld]) {
			return true
		}
	}
	return false
}

// leaveShared notes that x's status was not written into the entry at
// line because an alias reads it.
func (p *planner) leaveShared(x *rec, line int) {
	p.note(x, line, "not written: an alias or anchor shares this entry's status with other entries; give each cluster's claim an entry of its own")
}

package registry

import (
	"hash/maphash"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// openList is a list of entries that goes on in the next section (a
// cluster's, or a ClaimRegistry's claims): what is left to do for it
// once all its items are read.
type openList struct {
	name       string // the cluster; "" for a ClaimRegistry's claims
	anyCluster bool   // records match on namespace and name alone
	c          yamlsrc.Ctx
	val        *yaml.Node // the list reduced to the last item read, for adding after it
	last       **fields   // where the list keeps its last block entry
	visit      func(index *entryIndex) func(f *fields, item *yaml.Node) error
	write      func(*claim) error
	add        func(adds []*claim) error
	pending    map[ident][]*rec // records not matched yet, by identity
	adds       []*claim         // claims found without an entry so far
	ids        map[uint64]struct{}
	seed       maphash.Seed
}

// wait holds recs (sorted, so an identity's records are a run) until
// the sections holding their entries are read.
func (o *openList) wait(recs []*rec) {
	o.pending, o.ids, o.seed = map[ident][]*rec{}, map[uint64]struct{}{}, maphash.MakeSeed()
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && recs[j].id() == recs[i].id() {
			j++
		}
		o.pending[recs[i].id()] = recs[i:j]
		i = j
	}
}

// admit notes the identities of the list's entries in index. false
// when one was already met in an earlier section: matching must then see
// all such entries at once, so the file is applied whole. (A hash
// collision only costs that fallback.)
func (o *openList) admit(index *entryIndex) bool {
	for id := range index.first {
		if id.cluster != o.name {
			continue
		}
		h := maphash.Comparable(o.seed, id)
		if _, dup := o.ids[h]; dup {
			return false
		}
		o.ids[h] = struct{}{}
	}
	return true
}

// match writes the records whose entries are in index. The cost is in
// the piece's entries, not in the records still waiting.
func (o *openList) match(p *planner, index *entryIndex) error {
	if !o.admit(index) {
		return errFallback
	}
	var sel []*rec
	for id := range index.first {
		if group, ok := o.pending[id]; ok {
			sel = append(sel, group...)
			delete(o.pending, id)
		}
	}
	adds, err := p.matchClaims(sel, o.anyCluster, index, o.write)
	o.adds = append(o.adds, adds...)
	return err
}

// items reads and matches a section of the list's items, root.
func (o *openList) items(p *planner, root *yaml.Node, pk int) error {
	if root.Column-1 != o.c.Indent {
		return errFallback
	}
	index := newEntryIndex(0)
	var fieldSlab slab[fields]
	last, err := p.readEntries(root, o.c, pk, &fieldSlab, o.visit(index))
	if err != nil {
		return err
	}
	if last != nil {
		*o.last = last
	}
	o.val.Content = []*yaml.Node{root.Content[len(root.Content)-1]} // a copy: the rest of the piece may go
	return o.match(p, index)
}

// close lists the records left as missing and, with AddMissing, appends
// all the list's missing claims after its last item, in the order a
// whole-file run appends them.
func (o *openList) close(p *planner) error {
	var rest []*rec
	for _, group := range o.pending {
		rest = append(rest, group...)
	}
	adds, err := p.matchClaims(rest, o.anyCluster, newEntryIndex(0), o.write)
	if err != nil || !p.opts.AddMissing {
		return err
	}
	adds = append(o.adds, adds...)
	slices.SortFunc(adds, func(a, b *claim) int { return compareRecs(a.recs[0], b.recs[0]) })
	return o.add(adds)
}

// shortList is list v reduced to its last item, with the position and
// properties adding after it needs; the rest of its piece may go.
func shortList(v *yaml.Node) *yaml.Node {
	short := *v
	short.Content = []*yaml.Node{v.Content[len(v.Content)-1]}
	return &short
}

package registry

import (
	"errors"
	"hash/maphash"
	"runtime"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// Bounded memory. yaml.v3's node tree takes about 19 bytes per byte of
// YAML, so a whole 100k-claim registry (14 MB) needs 270 MB of nodes.
// The file is therefore read one section at a time: it is cut
// (sectionCuts) into pieces of about sectionSize bytes, at top-level
// keys or between the items of a long list (a large cluster's, or a
// ClaimRegistry's claims); each piece is parsed on its own, its entries
// matched against the records they can take, its edits gathered (offsets
// and text) and its nodes dropped. A few pieces are parsed ahead in
// parallel, so at most sectionWindow()+1 pieces' nodes live at once:
// memory is the file, the records, the edits and a fixed number of
// sections, whatever the claim count. Records whose entries are not read
// yet wait by identity; an identity met in two sections (the entries of
// one claim must be matched together) sends the file the whole way.
//
// The sectioned run must write what the whole-file run writes, byte for
// byte. It gives up, and the whole file is parsed and applied as before,
// whenever it could differ: a piece that does not parse on its own (an
// alias naming an anchor in an earlier section does not), a file with
// directives or document markers (a first "---" aside), a piece that is
// not of the first piece's layout, a ClaimRegistry whose claims are not
// its last key, any error (so errors are reported exactly as before),
// and a style lookup (the guide) made before the section that sets it
// was read. Every Apply test checks both ways give the same result.

// sectionSize is the size of a section's piece of the file: large enough
// that parsing one is efficient, small enough that a few sections' nodes
// are a few MB.
const sectionSize = 64 << 10

// sectionWindow is how many sections are parsed ahead of the one being
// planned.
func sectionWindow() int { return min(runtime.GOMAXPROCS(0), 4) }

// cut is where a section starts: a line index, and whether the section
// holds only list items continuing the list of the previous section's
// last cluster (a cluster larger than a section is cut between items).
type cut struct {
	line  int
	items bool
}

// sectionCuts cuts the file into sections of at least chunk bytes, none
// leaving less than tail bytes after it: at top-level keys other than the
// first (see splitPoints), or, with items, between the items of a
// cluster's list, at a line whose '-' sits in the column of the list's
// first item. With items, a key is cut at only when a list item came
// since the last cut, so a header of plain keys (a ClaimRegistry's
// apiVersion and kind) stays with the key after it; a section of items
// ends at the next top-level key. nil when the file has directives or
// document markers other than a first "---". A cut inside a quoted
// scalar or flow collection leaves a piece that does not parse, and the
// file is applied whole; a block scalar's content is indented deeper
// than any '-' that could be cut at.
func sectionCuts(s *yamlsrc.Source, chunk, tail int, items bool) []cut {
	b := s.Bytes()
	cuts := []cut{{}}
	next := chunk
	seenKey := false
	dash := -1       // column of the current cluster's first item; -1 before it
	listed := !items // a list item came since the last cut
	for i := 0; i < s.LineCount(); i++ {
		start := s.LineOffset(i)
		if start >= len(b) {
			break
		}
		switch lineStart(s, start) {
		case startStop:
			if i > 0 || b[start] != '-' { // a first "---" only starts the one document
				return nil
			}
			continue
		case startKey:
			if seenKey && (cuts[len(cuts)-1].items || listed && start >= next && len(b)-start >= tail) {
				cuts = append(cuts, cut{line: i})
				next, listed = start+chunk, !items
			}
			seenKey, dash = true, -1
			continue
		}
		if !items {
			continue
		}
		j := start
		for j < len(b) && b[j] == ' ' {
			j++
		}
		if j >= len(b) || b[j] != '-' || !s.IsBlankz(j+1) {
			continue
		}
		col := j - start
		// A list item at column col.
		listed = listed || seenKey
		switch {
		case !seenKey:
		case dash < 0:
			dash = col
		case col == dash && start >= next:
			cuts = append(cuts, cut{line: i, items: true})
			next = start + chunk
		}
	}
	return cuts
}

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

// applySections is Apply one section at a time (see above); ok is false
// when the file must be applied whole instead.
func applySections(s *yamlsrc.Source, records []status.Record, opts Options, size int) ([]byte, Report, bool) {
	cuts := sectionCuts(s, size, 0, true)
	if len(cuts) < 2 {
		return nil, Report{}, false
	}
	lines := make([]int, len(cuts))
	for k, c := range cuts {
		lines[k] = c.line
	}
	sr := readSections(s, lines, cuts, sectionWindow())
	defer sr.stop()
	doc, ok := sr.peek()
	if !ok {
		return nil, Report{}, false
	}
	layout, _ := classify(doc.Content[0])
	if layout == "" {
		return nil, Report{}, false
	}
	p := &planner{s: s, opts: opts, layout: layout}
	p.rep.Layout = layout
	recs := p.normalize(records)
	var err error
	if layout == LayoutClusters {
		err = p.planClusterSections(sr, cuts, lines, recs)
	} else {
		err = p.planClaimSections(sr, cuts, lines, recs)
	}
	if err != nil {
		return nil, Report{}, false
	}
	if p.guide.late {
		return nil, Report{}, false
	}
	out, err := p.ed.Apply(s.Bytes())
	if err != nil {
		return nil, Report{}, false
	}
	p.sortReport()
	return out, p.rep, true
}

// errFallback: the file must be applied whole.
var errFallback = errors.New("apply whole")

// planClusterSections plans a clusters map read in sections: each
// cluster's records with the section(s) holding its list, then the
// records of clusters the file lacks. Any error means: apply whole.
func (p *planner) planClusterSections(sr *sectionReader, cuts []cut, lines []int, recs []*rec) error {
	s := p.s
	slices.SortFunc(recs, compareRecs)
	byCluster := map[string][]*rec{}
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && recs[j].cluster == recs[i].cluster {
			j++
		}
		byCluster[recs[i].cluster] = recs[i:j]
		i = j
	}
	names := map[string]bool{} // cluster keys so far: one given twice is an error
	var (
		c     yamlsrc.Ctx
		first *yaml.Node   // the root's first piece, for its position
		tail  []*yaml.Node // the last top-level key and value
		open  *openList
		batch []*rec
	)
	for k := range cuts {
		doc, ok := sr.next()
		if !ok {
			return errFallback
		}
		root := doc.Content[0]
		p.shared = sharedNodes(piece(s, lines, k), []*yaml.Node{doc})
		index := newEntryIndex(0)
		var fieldSlab slab[fields]
		if cuts[k].items {
			if err := open.items(p, root, c.Indent); err != nil {
				return err
			}
			continue
		}
		if open != nil {
			if err := open.close(p); err != nil {
				return err
			}
			open = nil
		}
		if k == 0 {
			c, first = s.ChildCtx(root, yamlsrc.TopCtx), root
		}
		if l, _ := classify(root); l != LayoutClusters {
			return errFallback
		}
		d := &document{root: root, c: c}
		lists := map[string]*clusterList{}
		if err := p.readClusters(d, lists, index, &fieldSlab); err != nil {
			return err
		}
		splitLast := k+1 < len(cuts) && cuts[k+1].items
		batch = batch[:0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			name := root.Content[i].Value
			if names[name] {
				return errFallback
			}
			names[name] = true
			if splitLast && i+2 == len(root.Content) {
				break
			}
			batch = append(batch, byCluster[name]...)
			delete(byCluster, name)
		}
		if err := p.matchClusters(batch, index, lists); err != nil {
			return err
		}
		tail = []*yaml.Node{root.Content[len(root.Content)-2], root.Content[len(root.Content)-1]}
		if splitLast {
			if open, ok = p.openCluster(tail[0], lists, byCluster, index); !ok {
				return errFallback
			}
			tail = []*yaml.Node{tail[0], open.val}
		}
	}
	if open != nil {
		if err := open.close(p); err != nil {
			return err
		}
	}

	// Records of clusters the file lacks: missing, or new cluster keys
	// after the last one. The root is reduced to what that needs.
	var rest []*rec
	for _, rs := range byCluster {
		rest = append(rest, rs...)
	}
	p.docs = []document{{root: &yaml.Node{Kind: yaml.MappingNode, Line: first.Line, Column: first.Column, Content: tail}, c: c}}
	p.shared = nil
	return p.matchClusters(rest, newEntryIndex(0), map[string]*clusterList{})
}

// openCluster starts the cluster of key, whose block list goes on in the
// next section: its entries read so far are matched, the rest wait.
func (p *planner) openCluster(key *yaml.Node, lists map[string]*clusterList, byCluster map[string][]*rec, index *entryIndex) (*openList, bool) {
	cl := lists[key.Value]
	v := cl.val
	if v.Kind != yaml.SequenceNode || v.Style&yaml.FlowStyle != 0 || len(v.Content) == 0 || p.isShared(v) {
		return nil, false
	}
	short := &clusterList{key: key, val: shortList(v), doc: &document{c: cl.doc.c}, c: cl.c, last: cl.last}
	o := &openList{
		name: key.Value, c: cl.c, val: short.val, last: &short.last,
		visit: func(index *entryIndex) func(f *fields, item *yaml.Node) error {
			return func(f *fields, item *yaml.Node) error {
				if ns, name, _, ok := f.identity(LayoutClusters); ok {
					index.add(ident{key.Value, ns, name}, f, item.Line)
				}
				return nil
			}
		},
		write: p.writeCluster,
		add: func(adds []*claim) error {
			return p.addClusterEntries(adds, map[string]*clusterList{key.Value: short})
		},
	}
	o.wait(byCluster[key.Value])
	delete(byCluster, key.Value)
	if o.match(p, index) != nil {
		return nil, false
	}
	return o, true
}

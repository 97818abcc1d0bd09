package registry

import (
	"errors"
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

package registry

import (
	"runtime"
	"slices"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// Bounded memory. yaml.v3's node tree takes about 19 bytes per byte of
// YAML, so a whole 100k-claim registry (14 MB) needs 270 MB of nodes.
// A clusters-layout file is therefore read one section at a time: the
// file is cut at top-level keys (the cuts splitPoints makes) into pieces
// of about sectionSize bytes, each piece is parsed on its own, its
// entries matched against the records of its clusters, its edits
// gathered (offsets and text), and its nodes dropped. A few pieces are
// parsed ahead in parallel, so at most sectionWindow()+1 pieces' nodes
// live at once: memory is the file, the records, the edits and a fixed
// number of sections, whatever the claim count. A single cluster's list
// is never cut, so one very large cluster is one large section.
//
// The sectioned run must write what the whole-file run writes, byte for
// byte. It gives up, and the whole file is parsed and applied as before,
// whenever it could differ: a piece that does not parse on its own (an
// alias naming an anchor in an earlier section does not), a file with
// document markers or directives, a piece that is not a clusters map, any
// error (so errors are reported exactly as before), and a style lookup
// (the guide) made before the section that sets it was read. A
// ClaimRegistry keeps its claims under one key and is always applied
// whole.

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
	bounds := cutPoints(s, size, 0)
	if len(bounds) < 2 {
		return nil, Report{}, false
	}
	p := &planner{s: s, opts: opts, layout: LayoutClusters}
	p.rep.Layout = LayoutClusters
	recs := p.normalize(records)
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

	sr := readSections(s, bounds, sectionWindow())
	defer sr.stop()
	names := map[string]bool{} // cluster keys so far: one given twice is an error
	var (
		c     yamlsrc.Ctx
		first *yaml.Node // the root's first piece, for its line
		tail  []*yaml.Node
		batch []*rec
	)
	for k := range bounds {
		doc, ok := sr.next()
		if !ok {
			return nil, Report{}, false
		}
		root := doc.Content[0]
		if k == 0 {
			c, first = s.ChildCtx(root, yamlsrc.TopCtx), root
		}
		if l, _ := classify(root); l != LayoutClusters {
			return nil, Report{}, false
		}
		d := &document{root: root, c: c}
		p.shared = sharedNodes(piece(s, bounds, k), []*yaml.Node{doc})
		lists := map[string]*clusterList{}
		index := newEntryIndex(0)
		var fieldSlab slab[fields]
		if err := p.readClusters(d, lists, index, &fieldSlab); err != nil {
			return nil, Report{}, false
		}
		batch = batch[:0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			name := root.Content[i].Value
			if names[name] {
				return nil, Report{}, false
			}
			names[name] = true
			batch = append(batch, byCluster[name]...)
			delete(byCluster, name)
		}
		if err := p.matchClusters(batch, index, lists); err != nil {
			return nil, Report{}, false
		}
		if k == len(bounds)-1 {
			tail = root.Content[len(root.Content)-2:]
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
	if err := p.matchClusters(rest, newEntryIndex(0), map[string]*clusterList{}); err != nil {
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

// sectionReader parses the pieces between bounds in order, up to window
// of them ahead of the caller.
type sectionReader struct {
	out  []chan parsedPiece
	sem  chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
	k    int
}

type parsedPiece struct {
	doc *yaml.Node
	ok  bool
}

func readSections(s *yamlsrc.Source, bounds []int, window int) *sectionReader {
	r := &sectionReader{out: make([]chan parsedPiece, len(bounds)), sem: make(chan struct{}, max(window, 1)), done: make(chan struct{})}
	for k := range r.out {
		r.out[k] = make(chan parsedPiece, 1)
	}
	r.wg.Go(func() {
		for k := range bounds {
			select {
			case r.sem <- struct{}{}:
			case <-r.done:
				return
			}
			r.wg.Go(func() {
				doc, ok := parsePiece(s, bounds, k)
				r.out[k] <- parsedPiece{doc, ok}
			})
		}
	})
	return r
}

// next is the next piece's document; ok is false when it is not one
// block mapping at column 0 that parses on its own.
func (r *sectionReader) next() (*yaml.Node, bool) {
	p := <-r.out[r.k]
	r.out[r.k] = nil
	r.k++
	<-r.sem
	return p.doc, p.ok
}

// stop ends the parsing ahead and waits for it.
func (r *sectionReader) stop() {
	close(r.done)
	r.wg.Wait()
}

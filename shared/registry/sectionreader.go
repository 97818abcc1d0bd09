package registry

import (
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// sectionReader parses the pieces between bounds in order, up to window
// of them ahead of the caller.
type sectionReader struct {
	held *parsedPiece // the piece peek read
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

func readSections(s *yamlsrc.Source, bounds []int, cuts []cut, window int) *sectionReader {
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
				want := yaml.MappingNode
				if cuts[k].items {
					want = yaml.SequenceNode
				}
				doc, ok := parsePiece(s, bounds, k, want)
				r.out[k] <- parsedPiece{doc, ok}
			})
		}
	})
	return r
}

// next is the next piece's document; ok is false when it is not one
// block mapping at column 0 that parses on its own.
func (r *sectionReader) next() (*yaml.Node, bool) {
	if h := r.held; h != nil {
		r.held = nil
		return h.doc, h.ok
	}
	p := <-r.out[r.k]
	r.out[r.k] = nil
	r.k++
	<-r.sem
	return p.doc, p.ok
}

// peek is the piece next returns next.
func (r *sectionReader) peek() (*yaml.Node, bool) {
	if r.held == nil {
		doc, ok := r.next()
		r.held = &parsedPiece{doc, ok}
	}
	return r.held.doc, r.held.ok
}

// stop ends the parsing ahead and waits for it.
func (r *sectionReader) stop() {
	close(r.done)
	r.wg.Wait()
}

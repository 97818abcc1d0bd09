package registry

import (
	"runtime"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// Parsing dominates Apply: yaml.v3 builds a node for every scalar. A
// large clusters-map registry is one top-level mapping whose keys can be
// parsed in parallel and joined. (A ClaimRegistry keeps its claims in one
// list under one key, so it has nothing to cut and is parsed in one go.)

// parseMinChunk is the least input worth a goroutine of its own.
const parseMinChunk = 256 << 10

// parseSource parses every document of s: in parallel pieces when the
// file is large and can be cut safely, else in one pass. Both give the
// same nodes.
func parseSource(s *yamlsrc.Source) ([]*yaml.Node, error) {
	return parseSourceWith(s, parseMinChunk, min(runtime.GOMAXPROCS(0), 8))
}

func parseSourceWith(s *yamlsrc.Source, minChunk, workers int) ([]*yaml.Node, error) {
	if bounds := splitPoints(s, minChunk, workers); len(bounds) > 1 {
		if docs, ok := parseChunks(s, bounds); ok {
			return docs, nil
		}
	}
	return parseDocs(s.Bytes())
}

// splitPoints returns the line indexes at which s may be cut into about
// workers pieces of at least minChunk bytes, or nil. Cuts are made only
// at lines that start at column 0 with a character that can begin a
// plain mapping key (not a blank, comment, '-', '?', ':', quote, flow
// bracket, anchor, alias, tag, block indicator or reserved character).
// A file with directives or document markers is not cut at all.
//
// Why this is safe: a top-level key's value cannot continue at column 0
// except as a quoted scalar or a flow collection spanning lines, and a
// cut inside one of those leaves a piece that does not parse, upon which
// parseChunks gives up and the file is parsed whole.
func splitPoints(s *yamlsrc.Source, minChunk, workers int) []int {
	if workers < 2 || len(s.Bytes()) < 2*minChunk {
		return nil
	}
	cuts := sectionCuts(s, max(len(s.Bytes())/workers, minChunk), minChunk/2, false)
	if cuts == nil {
		return nil
	}
	bounds := make([]int, len(cuts))
	for k, c := range cuts {
		bounds[k] = c.line
	}
	return bounds
}

// What a line starts with, for cutting the file.
const (
	startOther = iota // anything else
	startKey          // a plain top-level key: a place to cut
	startStop         // a directive or document marker: the file is not cut
)

// lineStart says what the line starting at byte start begins with.
func lineStart(s *yamlsrc.Source, start int) int {
	switch s.Bytes()[start] {
	case '%':
		return startStop
	case '-', '.':
		if s.DocMarker(start) {
			return startStop
		}
		return startOther
	case ' ', '\t', '#', '?', ':', '\'', '"', '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '@', '`', '\r', '\n':
		return startOther
	}
	return startKey
}

// parseChunks parses the pieces between bounds (line indexes)
// concurrently and joins their top-level mappings into one document with
// line numbers as in the whole file. ok is false when any piece fails to
// parse or is not exactly one untagged block mapping at column 0.
func parseChunks(s *yamlsrc.Source, bounds []int) ([]*yaml.Node, bool) {
	docs := make([]*yaml.Node, len(bounds))
	oks := make([]bool, len(bounds))
	var wg sync.WaitGroup
	for k := range bounds {
		wg.Go(func() { docs[k], oks[k] = parsePiece(s, bounds, k, yaml.MappingNode) })
	}
	wg.Wait()
	var root *yaml.Node
	for k := range bounds {
		if !oks[k] {
			return nil, false
		}
		m := docs[k].Content[0]
		if k == 0 {
			root = m
			continue
		}
		root.Content = append(root.Content, m.Content...)
	}
	return docs[:1], true
}

// piece is the bytes of piece k between bounds (line indexes). The
// first piece keeps the BOM; yaml.v3 skips it.
func piece(s *yamlsrc.Source, bounds []int, k int) []byte {
	start, end := 0, len(s.Bytes())
	if k > 0 {
		start = s.LineOffset(bounds[k])
	}
	if k+1 < len(bounds) {
		end = s.LineOffset(bounds[k+1])
	}
	return s.Bytes()[start:end]
}

// parsePiece parses piece k with line numbers as in the whole file. ok
// is false when it fails to parse or is not exactly one untagged block
// node of kind want: a mapping at column 0, or a sequence (the items of
// a list cut from its key, sections.go).
func parsePiece(s *yamlsrc.Source, bounds []int, k int, want yaml.Kind) (*yaml.Node, bool) {
	docs, err := parseDocs(piece(s, bounds, k))
	if err != nil || len(docs) != 1 || len(docs[0].Content) != 1 {
		return nil, false
	}
	m := docs[0].Content[0]
	if m.Kind != want || m.Style != 0 || m.Anchor != "" || want == yaml.MappingNode && m.Column != 1 || want == yaml.SequenceNode && m.Tag != "!!seq" {
		return nil, false
	}
	if k > 0 {
		shiftLines(m, bounds[k])
	}
	return docs[0], true
}

// shiftLines moves n and everything below it down by delta lines.
func shiftLines(n *yaml.Node, delta int) {
	n.Line += delta
	for _, c := range n.Content {
		shiftLines(c, delta)
	}
}

package registry

import (
	"gopkg.in/yaml.v3"
)

// yaml.v3 nodes carry only where they start. This file finds where they
// end by re-scanning the source with the rules yaml.v3's scanner uses, so
// a value can be replaced without touching the bytes around it.

// ctx is where a node sits: the block indentation the YAML scanner holds
// while reading it (the column of the enclosing block collection, -1 at
// the top level) and whether it is inside a flow collection. Both decide
// where a plain or block scalar ends.
type ctx struct {
	indent int
	flow   bool
}

var topCtx = ctx{indent: -1}

// span locates a scalar or alias node in the source.
type span struct {
	start  int    // first byte of the node, including anchor and tag
	body   int    // first byte of the scalar text after its properties
	end    int    // byte after the scalar text; for block scalars after the header indicators
	anchor string // the node's anchor, kept when the value is rewritten

	// Block scalars (| and >) only.
	block         bool
	lineEnd       int // end of the header line; a comment may sit in [end, lineEnd)
	contentEnd    int // end of the last content line; lineEnd when there is none
	contentIndent int // column of the content, -1 when there is none
	keep          bool
}

// last is the end of everything the scalar owns.
func (sp span) last() int {
	if sp.block {
		return sp.contentEnd
	}
	return sp.end
}

func isAnchorChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-'
}

// isEmptyScalar reports a scalar with no text at all (`key:`), which
// yaml.v3 places right after the ':' (or after its properties).
func isEmptyScalar(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "" &&
		n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
}

// skipGap skips blanks, line breaks and comments from i.
func (s *source) skipGap(i int) int {
	for i < len(s.b) {
		switch {
		case s.isBlank(i):
			i++
		case breakLen(s.b, i) > 0:
			i += breakLen(s.b, i)
		case s.b[i] == '#':
			i = s.lineEnd(i)
		default:
			return i
		}
	}
	return i
}

// skipProps skips the anchor and tag in front of a node's content at off.
// It returns where the properties end, where the content starts and the
// anchor name. For an empty node the properties never reach past the end
// of their line, so the next key is not mistaken for a tag.
func (s *source) skipProps(off int, empty, flow bool) (propsEnd, body int, anchor string) {
	i := off
	propsEnd = off
	seenAnchor, seenTag := false, false
	for {
		switch c := s.at(i); {
		case c == '&' && !seenAnchor:
			seenAnchor = true
			j := i + 1
			for j < len(s.b) && isAnchorChar(s.b[j]) {
				j++
			}
			anchor = string(s.b[i+1 : j])
			i = j
		case c == '!' && !seenTag:
			seenTag = true
			j := i + 1
			if s.at(j) == '<' {
				for j < len(s.b) && s.b[j] != '>' {
					j++
				}
				j++
			} else {
				for !s.isBlankz(j) && !(flow && s.at(j) == ',') {
					j++
				}
			}
			i = j
		default:
			return propsEnd, i, anchor
		}
		propsEnd = i
		if empty {
			// Only blanks on the same line may separate two properties here.
			for s.isBlank(i) {
				i++
			}
			if c := s.at(i); !(c == '&' && !seenAnchor || c == '!' && !seenTag) {
				return propsEnd, propsEnd, anchor
			}
			continue
		}
		i = s.skipGap(i)
	}
}

// scalarSpan locates scalar or alias n, which sits in context c.
func (s *source) scalarSpan(n *yaml.Node, c ctx) span {
	start := s.offset(n.Line, n.Column)
	sp := span{start: start, body: start, contentIndent: -1}
	if n.Kind == yaml.AliasNode {
		end := start + 1
		for end < len(s.b) && isAnchorChar(s.b[end]) {
			end++
		}
		sp.end = end
		return sp
	}
	empty := isEmptyScalar(n)
	propsEnd, body, anchor := s.skipProps(start, empty, c.flow)
	sp.anchor = anchor
	switch {
	case empty:
		sp.body, sp.end = propsEnd, propsEnd
	case n.Style&yaml.DoubleQuotedStyle != 0:
		sp.body, sp.end = body, s.quotedEnd(body, '"')
	case n.Style&yaml.SingleQuotedStyle != 0:
		sp.body, sp.end = body, s.quotedEnd(body, '\'')
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		sp.body = body
		s.blockScalar(&sp, c.indent)
	default:
		sp.body, sp.end = body, s.plainEnd(body, c)
	}
	return sp
}

// quotedEnd is the byte after the closing quote of the scalar opening at i.
func (s *source) quotedEnd(i int, q byte) int {
	for i++; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case q == '"' && c == '\\':
			i++ // the escaped byte; never a quote that ends the scalar
		case c == q:
			if q == '\'' && s.at(i+1) == '\'' {
				i++ // '' is an escaped quote
				continue
			}
			return i + 1
		}
	}
	return len(s.b)
}

// plainEnd is the byte after the last character of the plain scalar at i,
// mirroring yaml.v3's yaml_parser_scan_plain_scalar: the scalar stops at
// ": ", at " #", at flow indicators inside flow collections, at a document
// marker, and at a continuation line indented no deeper than c.indent.
func (s *source) plainEnd(i int, c ctx) int {
	end := i
	for {
		if s.at(i) == '#' {
			return end
		}
		for !s.isBlankz(i) {
			ch := s.b[i]
			if ch == ':' && s.isBlankz(i+1) {
				return end
			}
			if c.flow && (ch == ',' || ch == '?' || ch == '[' || ch == ']' || ch == '{' || ch == '}') {
				return end
			}
			i++
			end = i
		}
		if i >= len(s.b) {
			return end
		}
		col, broke := 0, false
		for {
			if s.isBlank(i) {
				i++
				col++
				continue
			}
			if n := breakLen(s.b, i); n > 0 {
				i += n
				col, broke = 0, true
				continue
			}
			break
		}
		if broke {
			if !c.flow && col < c.indent+1 {
				return end
			}
			if col == 0 && s.docMarker(i) {
				return end
			}
		}
		if i >= len(s.b) {
			return end
		}
	}
}

// docMarker reports "---" or "..." followed by a blank at line start i.
func (s *source) docMarker(i int) bool {
	if i+3 > len(s.b) {
		return false
	}
	m := string(s.b[i : i+3])
	return (m == "---" || m == "...") && s.isBlankz(i+3)
}

// blockScalar fills in the block scalar whose indicator is at sp.body,
// mirroring yaml_parser_scan_block_scalar. parent is the scanner's
// indentation (the enclosing mapping's column).
func (s *source) blockScalar(sp *span, parent int) {
	sp.block = true
	i := sp.body + 1
	increment := 0
	for k := 0; k < 2; k++ {
		switch c := s.at(i); {
		case c == '+' || c == '-':
			sp.keep = c == '+'
			i++
		case c >= '1' && c <= '9':
			increment = int(c - '0')
			i++
		}
	}
	sp.end = i
	sp.lineEnd = s.lineEnd(i)
	sp.contentEnd = sp.lineEnd
	if sp.lineEnd >= len(s.b) {
		return
	}
	i = sp.lineEnd + breakLen(s.b, sp.lineEnd)
	indent := 0
	if increment > 0 {
		indent = increment
		if parent >= 0 {
			indent = parent + increment
		}
	}
	// breaks eats indentation and empty lines; it returns the column
	// reached on the first non-empty line (or at the end of input).
	breaks := func() int {
		maxIndent := 0
		for {
			col := 0
			for (indent == 0 || col < indent) && s.at(i) == ' ' {
				i++
				col++
			}
			maxIndent = max(maxIndent, col)
			n := breakLen(s.b, i)
			if n == 0 {
				if indent == 0 {
					indent = max(maxIndent, parent+1, 1)
				}
				return col
			}
			i += n
		}
	}
	for col := breaks(); col == indent && i < len(s.b); col = breaks() {
		sp.contentIndent = indent
		for i < len(s.b) && breakLen(s.b, i) == 0 {
			i++
		}
		sp.contentEnd = i
		if i >= len(s.b) {
			return
		}
		i += breakLen(s.b, i)
	}
}

// childCtx is the context of n's children, n sitting in context c.
func (s *source) childCtx(n *yaml.Node, c ctx) ctx {
	if c.flow || n.Style&yaml.FlowStyle != 0 {
		return ctx{indent: c.indent, flow: true}
	}
	return ctx{indent: s.blockIndent(n)}
}

// blockIndent is the column yaml.v3 indents block collection n at: the
// column of its first key (or '?') or of its first '-'.
func (s *source) blockIndent(n *yaml.Node) int {
	off := s.offset(n.Line, n.Column)
	if c := s.at(off); (c != '&' && c != '!') || len(n.Content) == 0 {
		return s.col(off)
	}
	// Properties in front: the collection starts at its first child.
	first := s.offset(n.Content[0].Line, n.Content[0].Column)
	ind := byte('?')
	if n.Kind == yaml.SequenceNode {
		ind = '-'
	}
	j := first - 1
	for j >= 0 && s.isBlank(j) {
		j--
	}
	if j >= 0 && s.b[j] == ind && (j == 0 || s.isBlankz(j-1) || s.lineStart(j) == j) {
		return s.col(j)
	}
	if n.Kind == yaml.SequenceNode {
		return s.col(first) - 2
	}
	return s.col(first)
}

// nodeEnd is the byte after the last character of node n in context c.
func (s *source) nodeEnd(n *yaml.Node, c ctx) (int, error) {
	switch n.Kind {
	case yaml.ScalarNode, yaml.AliasNode:
		return s.scalarSpan(n, c).last(), nil
	case yaml.MappingNode, yaml.SequenceNode:
		cc := s.childCtx(n, c)
		if n.Style&yaml.FlowStyle == 0 && !c.flow {
			if len(n.Content) == 0 {
				return s.offset(n.Line, n.Column), nil
			}
			return s.nodeEnd(n.Content[len(n.Content)-1], cc)
		}
		closing := byte(']')
		if n.Kind == yaml.MappingNode {
			closing = '}'
		}
		var pos int
		if len(n.Content) == 0 {
			_, body, _ := s.skipProps(s.offset(n.Line, n.Column), false, true)
			pos = body + 1
		} else {
			end, err := s.nodeEnd(n.Content[len(n.Content)-1], cc)
			if err != nil {
				return 0, err
			}
			pos = end
		}
		for {
			pos = s.skipGap(pos)
			switch s.at(pos) {
			case ',':
				pos++
				continue
			case closing:
				return pos + 1, nil
			}
			return 0, errAt(n.Line, ErrUnsupported, "cannot find the end of the flow collection starting here")
		}
	}
	return 0, errAt(n.Line, ErrUnsupported, "unexpected node kind %v", n.Kind)
}

// after is where a line inserted after node n starts: the line following
// the node's last line. A keep-chomped block scalar (|+) owns the blank
// lines after it, so they are skipped to leave its value unchanged.
func (s *source) after(n *yaml.Node, c ctx) (int, error) {
	end, err := s.nodeEnd(n, c)
	if err != nil {
		return 0, err
	}
	pos := s.nextLine(end)
	if last, lc := lastLeaf(n, c, s); last != nil && last.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		if s.scalarSpan(last, lc).keep {
			for pos < len(s.b) && s.blankLine(pos) {
				pos = s.nextLine(pos)
			}
		}
	}
	return pos, nil
}

// lastLeaf is the last scalar in document order under n, with its context.
func lastLeaf(n *yaml.Node, c ctx, s *source) (*yaml.Node, ctx) {
	for (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && len(n.Content) > 0 {
		c = s.childCtx(n, c)
		n = n.Content[len(n.Content)-1]
	}
	if n.Kind != yaml.ScalarNode {
		return nil, c
	}
	return n, c
}

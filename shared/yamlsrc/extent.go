package yamlsrc

import (
	"gopkg.in/yaml.v3"
)

// yaml.v3 nodes carry only where they start. This file finds where they
// end by re-scanning the source with the rules yaml.v3's scanner uses, so
// a value can be replaced without touching the bytes around it.

// Ctx is where a node sits: the block indentation the YAML scanner holds
// while reading it (the column of the enclosing block collection, -1 at
// the top level) and whether it is inside a flow collection. Both decide
// where a plain or block scalar ends.
type Ctx struct {
	Indent int
	Flow   bool
}

// TopCtx is the context of a document's root node.
var TopCtx = Ctx{Indent: -1}

// Span locates a scalar or alias node in the source.
type Span struct {
	Start  int    // first byte of the node, including anchor and tag
	Body   int    // first byte of the scalar text after its properties
	End    int    // byte after the scalar text; for block scalars after the header indicators
	Anchor string // the node's anchor, kept when the value is rewritten

	// Block scalars (| and >) only.
	Block         bool
	LineEnd       int  // end of the header line; a comment may sit in [End, LineEnd)
	ContentEnd    int  // end of the last content line; LineEnd when there is none
	ContentIndent int  // column of the content, -1 when there is none
	Keep          bool // keep chomping (|+): the blank lines after the content belong to it
}

// Last is the end of everything the scalar owns.
func (sp Span) Last() int {
	if sp.Block {
		return sp.ContentEnd
	}
	return sp.End
}

func isAnchorChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-'
}

// IsEmptyScalar reports a scalar with no text at all (`key:`), which
// yaml.v3 places right after the ':' (or after its properties).
func IsEmptyScalar(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "" &&
		n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
}

// SkipGap skips blanks, line breaks and comments from i.
func (s *Source) SkipGap(i int) int {
	for i < len(s.b) {
		switch {
		case s.IsBlank(i):
			i++
		case BreakLen(s.b, i) > 0:
			i += BreakLen(s.b, i)
		case s.b[i] == '#':
			i = s.LineEnd(i)
		default:
			return i
		}
	}
	return i
}

// SkipProps skips the anchor and tag in front of a node's content at off.
// It returns where the properties end, where the content starts and the
// anchor name. For an empty node the properties never reach past the end
// of their line, so the next key is not mistaken for a tag.
func (s *Source) SkipProps(off int, empty, flow bool) (propsEnd, body int, anchor string) {
	i := off
	propsEnd = off
	seenAnchor, seenTag := false, false
	for {
		switch c := s.At(i); {
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
			if s.At(j) == '<' {
				for j < len(s.b) && s.b[j] != '>' {
					j++
				}
				j++
			} else {
				for !s.IsBlankz(j) && !(flow && s.At(j) == ',') {
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
			for s.IsBlank(i) {
				i++
			}
			if c := s.At(i); !(c == '&' && !seenAnchor || c == '!' && !seenTag) {
				return propsEnd, propsEnd, anchor
			}
			continue
		}
		i = s.SkipGap(i)
	}
}

// ScalarSpan locates scalar or alias n, which sits in context c.
func (s *Source) ScalarSpan(n *yaml.Node, c Ctx) Span {
	start := s.Offset(n.Line, n.Column)
	sp := Span{Start: start, Body: start, ContentIndent: -1}
	if n.Kind == yaml.AliasNode {
		end := start + 1
		for end < len(s.b) && isAnchorChar(s.b[end]) {
			end++
		}
		sp.End = end
		return sp
	}
	empty := IsEmptyScalar(n)
	propsEnd, body, anchor := s.SkipProps(start, empty, c.Flow)
	sp.Anchor = anchor
	switch {
	case empty:
		sp.Body, sp.End = propsEnd, propsEnd
	case n.Style&yaml.DoubleQuotedStyle != 0:
		sp.Body, sp.End = body, s.quotedEnd(body, '"')
	case n.Style&yaml.SingleQuotedStyle != 0:
		sp.Body, sp.End = body, s.quotedEnd(body, '\'')
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		sp.Body = body
		s.blockScalar(&sp, c.Indent)
	default:
		sp.Body, sp.End = body, s.plainEnd(body, c)
	}
	return sp
}

// quotedEnd is the byte after the closing quote of the scalar opening at i.
func (s *Source) quotedEnd(i int, q byte) int {
	for i++; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case q == '"' && c == '\\':
			i++ // the escaped byte; never a quote that ends the scalar
		case c == q:
			if q == '\'' && s.At(i+1) == '\'' {
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
// marker, and at a continuation line indented no deeper than c.Indent.
func (s *Source) plainEnd(i int, c Ctx) int {
	end := i
	for {
		if s.At(i) == '#' {
			return end
		}
		for !s.IsBlankz(i) {
			ch := s.b[i]
			if ch == ':' && s.IsBlankz(i+1) {
				return end
			}
			if c.Flow && (ch == ',' || ch == '?' || ch == '[' || ch == ']' || ch == '{' || ch == '}') {
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
			if s.IsBlank(i) {
				i++
				col++
				continue
			}
			if n := BreakLen(s.b, i); n > 0 {
				i += n
				col, broke = 0, true
				continue
			}
			break
		}
		if broke {
			if !c.Flow && col < c.Indent+1 {
				return end
			}
			if col == 0 && s.DocMarker(i) {
				return end
			}
		}
		if i >= len(s.b) {
			return end
		}
	}
}

// DocMarker reports "---" or "..." followed by a blank at line start i.
func (s *Source) DocMarker(i int) bool {
	if i+3 > len(s.b) {
		return false
	}
	m := string(s.b[i : i+3])
	return (m == "---" || m == "...") && s.IsBlankz(i+3)
}

// blockScalar fills in the block scalar whose indicator is at sp.Body,
// mirroring yaml_parser_scan_block_scalar. parent is the scanner's
// indentation (the enclosing mapping's column).
func (s *Source) blockScalar(sp *Span, parent int) {
	sp.Block = true
	i := sp.Body + 1
	increment := 0
	for k := 0; k < 2; k++ {
		switch c := s.At(i); {
		case c == '+' || c == '-':
			sp.Keep = c == '+'
			i++
		case c >= '1' && c <= '9':
			increment = int(c - '0')
			i++
		}
	}
	sp.End = i
	sp.LineEnd = s.LineEnd(i)
	sp.ContentEnd = sp.LineEnd
	if sp.LineEnd >= len(s.b) {
		return
	}
	i = sp.LineEnd + BreakLen(s.b, sp.LineEnd)
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
			for (indent == 0 || col < indent) && s.At(i) == ' ' {
				i++
				col++
			}
			maxIndent = max(maxIndent, col)
			n := BreakLen(s.b, i)
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
		sp.ContentIndent = indent
		for i < len(s.b) && BreakLen(s.b, i) == 0 {
			i++
		}
		sp.ContentEnd = i
		if i >= len(s.b) {
			return
		}
		i += BreakLen(s.b, i)
	}
}

// ChildCtx is the context of n's children, n sitting in context c.
func (s *Source) ChildCtx(n *yaml.Node, c Ctx) Ctx {
	if c.Flow || n.Style&yaml.FlowStyle != 0 {
		return Ctx{Indent: c.Indent, Flow: true}
	}
	return Ctx{Indent: s.BlockIndent(n)}
}

// BlockIndent is the column yaml.v3 indents block collection n at: the
// column of its first key (or '?') or of its first '-'.
func (s *Source) BlockIndent(n *yaml.Node) int {
	off := s.Offset(n.Line, n.Column)
	if c := s.At(off); (c != '&' && c != '!') || len(n.Content) == 0 {
		return s.Col(off)
	}
	// Properties in front: the collection starts at its first child.
	first := s.Offset(n.Content[0].Line, n.Content[0].Column)
	ind := byte('?')
	if n.Kind == yaml.SequenceNode {
		ind = '-'
	}
	j := first - 1
	for j >= 0 && s.IsBlank(j) {
		j--
	}
	if j >= 0 && s.b[j] == ind && (j == 0 || s.IsBlankz(j-1) || s.LineStart(j) == j) {
		return s.Col(j)
	}
	if n.Kind == yaml.SequenceNode {
		return s.Col(first) - 2
	}
	return s.Col(first)
}

// NodeEnd is the byte after the last character of node n in context c.
// An *Error says a flow collection's end could not be found.
func (s *Source) NodeEnd(n *yaml.Node, c Ctx) (int, error) {
	switch n.Kind {
	case yaml.ScalarNode, yaml.AliasNode:
		return s.ScalarSpan(n, c).Last(), nil
	case yaml.MappingNode, yaml.SequenceNode:
		cc := s.ChildCtx(n, c)
		if n.Style&yaml.FlowStyle == 0 && !c.Flow {
			if len(n.Content) == 0 {
				return s.Offset(n.Line, n.Column), nil
			}
			return s.NodeEnd(n.Content[len(n.Content)-1], cc)
		}
		closing := byte(']')
		if n.Kind == yaml.MappingNode {
			closing = '}'
		}
		var pos int
		if len(n.Content) == 0 {
			_, body, _ := s.SkipProps(s.Offset(n.Line, n.Column), false, true)
			pos = body + 1
		} else {
			end, err := s.NodeEnd(n.Content[len(n.Content)-1], cc)
			if err != nil {
				return 0, err
			}
			pos = end
		}
		for {
			pos = s.SkipGap(pos)
			switch s.At(pos) {
			case ',':
				pos++
				continue
			case closing:
				return pos + 1, nil
			}
			return 0, errAtLine(n.Line, "cannot find the end of the flow collection starting here")
		}
	}
	return 0, errAtLine(n.Line, "unexpected node kind %v", n.Kind)
}

// After is where a line inserted after node n starts: the line following
// the node's last line. A keep-chomped block scalar (|+) owns the blank
// lines after it, so they are skipped to leave its value unchanged.
func (s *Source) After(n *yaml.Node, c Ctx) (int, error) {
	end, err := s.NodeEnd(n, c)
	if err != nil {
		return 0, err
	}
	pos := s.NextLine(end)
	if last, lc := LastLeaf(n, c, s); last != nil && last.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		if s.ScalarSpan(last, lc).Keep {
			for pos < len(s.b) && s.BlankLine(pos) {
				pos = s.NextLine(pos)
			}
		}
	}
	return pos, nil
}

// LastLeaf is the last scalar in document order under n, with its context.
func LastLeaf(n *yaml.Node, c Ctx, s *Source) (*yaml.Node, Ctx) {
	for (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && len(n.Content) > 0 {
		c = s.ChildCtx(n, c)
		n = n.Content[len(n.Content)-1]
	}
	if n.Kind != yaml.ScalarNode {
		return nil, c
	}
	return n, c
}

package yamlsrc

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Style is how a value is written. The zero value means "no preference": plain
// when that reads back as the same string, double-quoted otherwise.
type Style uint8

const (
	StyleAny Style = iota
	StylePlain
	StyleSingle
	StyleDouble
	StyleLiteral
	StyleFolded
)

// StyleOf is the style node n is written in.
func StyleOf(n *yaml.Node) Style {
	if n == nil || n.Kind != yaml.ScalarNode {
		return StyleAny
	}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		return StyleDouble
	case n.Style&yaml.SingleQuotedStyle != 0:
		return StyleSingle
	case n.Style&yaml.LiteralStyle != 0:
		return StyleLiteral
	case n.Style&yaml.FoldedStyle != 0:
		return StyleFolded
	case IsEmptyScalar(n):
		return StyleAny
	}
	return StylePlain
}

// WriteOpts says where a scalar is written.
type WriteOpts struct {
	Flow    bool   // inside a flow collection: ",[]{}" are special
	Indent  int    // content column for block scalars
	EOL     string // line break for block scalars
	OldTag  string // tag of the plain value being replaced; a plain value may keep a non-string type (a timestamp stays a timestamp)
	IsValue bool   // block scalars are only possible as values
}

// Render writes v in the preferred style when v is safe in it, else plain
// when safe, else double-quoted. The result always reads back as v.
func Render(v string, pref Style, w WriteOpts) string {
	switch pref {
	case StylePlain:
		if w.OldTag != "" && w.OldTag != "!!str" && w.OldTag != "!!null" && plainShapeOK(v, w.Flow) && resolvedTag(v) == w.OldTag {
			return v
		}
	case StyleSingle:
		if singleOK(v) {
			return "'" + strings.ReplaceAll(v, "'", "''") + "'"
		}
	case StyleDouble:
		return doubleQuote(v)
	case StyleLiteral, StyleFolded:
		if w.IsValue && !w.Flow {
			if out, ok := blockScalar(v, pref == StyleFolded, w.Indent, w.EOL); ok {
				return out
			}
		}
	}
	if plainOK(v, w.Flow) {
		return v
	}
	return doubleQuote(v)
}

// printable is YAML's printable set minus the characters this package
// never writes raw: line breaks other than LF (NEL, LS, PS, CR), the BOM,
// C0/C1 controls and DEL.
func printable(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return true
	case r < 0x20 || r == 0x7F:
		return false
	case r >= 0x80 && r < 0xA0:
		return false
	case r == 0x2028 || r == 0x2029 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF:
		return false
	case r >= 0xD800 && r <= 0xDFFF, r > 0x10FFFF, r == utf8.RuneError:
		return false
	}
	return true
}

// plainShapeOK reports whether v, written plain on one line, scans as one
// plain scalar with exactly v as its text (its type aside).
func plainShapeOK(v string, flow bool) bool {
	if v == "" || v[0] == ' ' || v[0] == '\t' {
		return false
	}
	if last := v[len(v)-1]; last == ' ' || last == '\t' || last == ':' {
		return false
	}
	switch v[0] {
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	for i, r := range v {
		if !printable(r) || r == '\n' || r == '\t' {
			return false
		}
		switch r {
		case ':':
			if i+1 < len(v) && (v[i+1] == ' ' || v[i+1] == '\t') {
				return false
			}
			if flow {
				return false
			}
		case '#':
			if i > 0 && (v[i-1] == ' ' || v[i-1] == '\t') {
				return false
			}
		case ',', '[', ']', '{', '}', '?':
			if flow { // yaml.v3 ends a plain scalar at these inside flow collections
				return false
			}
		}
	}
	return true
}

// plainOK reports whether v can be written plain and still read as the
// string v. Deliberately conservative: anything that could resolve to
// another type in YAML 1.1 or 1.2 (numbers, dates, booleans such as
// "yes", null) is quoted, and so is anything not starting with a letter.
func plainOK(v string, flow bool) bool {
	if !plainShapeOK(v, flow) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(v)
	if !(r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '/' || r == '(') || r >= utf8.RuneSelf && unicode.IsLetter(r)) {
		return false
	}
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null":
		return false
	}
	return true
}

// resolvedTag is the tag yaml.v3 gives v written plain.
func resolvedTag(v string) string {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("x: "+v), &n); err != nil || len(n.Content) == 0 || len(n.Content[0].Content) != 2 {
		return ""
	}
	val := n.Content[0].Content[1]
	if val.Value != v || val.Kind != yaml.ScalarNode {
		return ""
	}
	return val.ShortTag()
}

// singleOK reports whether v can be single-quoted on one line.
func singleOK(v string) bool {
	for _, r := range v {
		if !printable(r) || r == '\n' {
			return false
		}
	}
	// Leading or trailing tabs inside quotes survive, but editors and
	// reviewers do not see them; keep those for double quotes.
	return !strings.HasPrefix(v, "\t") && !strings.HasSuffix(v, "\t")
}

// doubleQuote writes v as a one-line double-quoted scalar; every character
// that could be a line break, is invisible or is not printable is escaped.
func doubleQuote(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0x85:
			b.WriteString(`\N`)
		case 0x2028:
			b.WriteString(`\L`)
		case 0x2029:
			b.WriteString(`\P`)
		default:
			switch {
			case r == utf8.RuneError:
				b.WriteString(`\uFFFD`)
			case !printable(r) && r < 0x100:
				b.WriteString(`\x`)
				writeHex(&b, uint32(r), 2)
			case !printable(r):
				b.WriteString(`\u`)
				writeHex(&b, uint32(r), 4)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeHex(b *strings.Builder, v uint32, digits int) {
	s := strconv.FormatUint(uint64(v), 16)
	for i := len(s); i < digits; i++ {
		b.WriteByte('0')
	}
	b.WriteString(strings.ToUpper(s))
}

// blockScalar writes v as a literal (or folded) block scalar: the header
// and then the content lines at column indent, with no line break after
// the last one (the caller's text continues with the old one).
// It refuses values the block form cannot carry exactly: unprintable
// characters, CR, a first line starting with a blank (it would need an
// indentation indicator), more than one trailing line break (keep
// chomping would swallow the blank lines that follow in the file), and,
// for folded scalars, anything but a single line.
func blockScalar(v string, folded bool, indent int, eol string) (string, bool) {
	body, chomp := v, "-"
	if strings.HasSuffix(body, "\n") {
		body, chomp = body[:len(body)-1], ""
	}
	if body == "" || strings.HasSuffix(body, "\n") || body[0] == ' ' || body[0] == '\t' || body[0] == '\n' {
		return "", false
	}
	for _, r := range body {
		if !printable(r) {
			return "", false
		}
	}
	lines := strings.Split(body, "\n")
	head := "|"
	if folded {
		if len(lines) > 1 || strings.HasSuffix(body, " ") || strings.HasSuffix(body, "\t") {
			return "", false
		}
		head = ">"
	}
	pad := strings.Repeat(" ", max(indent, 1))
	var b strings.Builder
	b.WriteString(head + chomp)
	for _, l := range lines {
		b.WriteString(eol)
		if l != "" {
			b.WriteString(pad)
			b.WriteString(l)
		}
	}
	return b.String(), true
}

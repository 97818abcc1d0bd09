package publish

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// wordJoiner is U+2060: invisible and zero-width, it splits a token such
// as "@name" or "#12" so that GitHub no longer links, mentions or closes
// through it, while the rendered text reads the same.
const wordJoiner = "\u2060"

// closingKeyword finds a closing keyword GitHub would act on: one of its
// nine words followed by an optional colon, blanks and something that
// names an issue (#n, GH-n, owner/repo#n or a URL).
var closingKeyword = regexp.MustCompile(`(?i)\b(close[sd]?|fix(?:e[sd])?|resolve[sd]?)(:?\s+(?:#|gh-|https?://|[\w.-]+/[\w.-]+#))`)

// reference finds what GitHub turns into a link or a notification:
// @mentions, #123 and GH-123 issue references.
var reference = regexp.MustCompile(`(?i)(@)([a-z0-9])|(#)([0-9])|\b(gh)(-[0-9])`)

// Cell makes untrusted text (a status message, a claim name) safe as one
// cell of a GitHub-flavoured markdown table. The cell renders as the
// literal text on one line and cannot end the row or the table, open an
// HTML comment or tag, mention a user or team, reference or close an
// issue, or reorder text with bidi controls: runs of newlines and tabs
// become one blank; other control characters (C0, C1, DEL), bidi overrides,
// embeddings, isolates and marks, and invalid UTF-8 become U+FFFD;
// markdown and HTML punctuation is escaped; mentions, references and
// closing keywords get an invisible word joiner. Text longer than
// maxBytes is cut at a character boundary and ends with "…"; the result
// is at most 5*maxBytes bytes (escaping grows a byte to at most five).
// Empty text is "–".
func Cell(s string, maxBytes int) string {
	s = cleanText(s)
	maxBytes = max(maxBytes, len("…")+1)
	if len(s) > maxBytes {
		s = strings.TrimRight(cutUTF8(s, maxBytes-len("…")), " ") + "…"
	}
	if strings.TrimSpace(s) == "" {
		return "–"
	}
	s = closingKeyword.ReplaceAllString(s, "${1}"+wordJoiner+"${2}")
	s = reference.ReplaceAllString(s, "${1}${3}${5}"+wordJoiner+"${2}${4}${6}")
	return cellEscaper.Replace(s)
}

// cellEscaper escapes what markdown or HTML would interpret: backslash
// escapes for markdown punctuation and the table's pipe, entities for
// what starts HTML (an entity like &#64; would otherwise render as "@").
var cellEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "~", `\~`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
)

// cleanText turns newlines and tabs into a blank (one per run) and every other control,
// bidi or invalid character into U+FFFD, so the text stays on one line
// and displays in its logical order.
func cleanText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				b.WriteRune(utf8.RuneError)
				continue
			}
			b.WriteRune(r)
		case r == '\n' || r == '\t' || r == '\r':
			if !strings.HasSuffix(b.String(), " ") {
				b.WriteByte(' ')
			}
		case r < 0x20 || r >= 0x7f && r <= 0x9f || isBidiControl(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isBidiControl reports the characters that change the display order of
// text: ALM, LRM, RLM, the embeddings and overrides (U+202A-U+202E) and
// the isolates (U+2066-U+2069).
func isBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

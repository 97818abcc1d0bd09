package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes is GitHub's limit on a pull request body (65536
// characters; counting bytes keeps multi-byte text safely under it).
const MaxBodyBytes = 65536

// markerPrefix starts the hidden comment that carries the body hash, so a
// later run can tell whether title/body changed without keeping the text.
const markerPrefix = "<!-- msc:hash="

// truncatedNote ends a body that had to be cut to fit MaxBodyBytes.
const truncatedNote = "\n\n_… truncated: the full text exceeds GitHub's pull request body limit._"

// bodyHash identifies a title and body; it is computed over the caller's
// text before truncation, so the same input always gives the same hash.
func bodyHash(title, body string) string {
	sum := sha256.Sum256([]byte(title + "\x00" + body))
	return hex.EncodeToString(sum[:16])
}

// renderBody returns the PR body to send, the caller's body cut to fit
// with the hash marker appended, and the hash.
func renderBody(title, body string) (string, string) {
	hash := bodyHash(title, body)
	marker := "\n\n" + markerPrefix + hash + " -->"
	if len(body)+len(marker) > MaxBodyBytes {
		body = cutUTF8(body, MaxBodyBytes-len(marker)-len(truncatedNote)) + truncatedNote
	}
	return body + marker, hash
}

// cutUTF8 shortens s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// markerHash extracts the hash from a body written by renderBody, or "".
func markerHash(body string) string {
	i := strings.LastIndex(body, markerPrefix)
	if i < 0 {
		return ""
	}
	rest := body[i+len(markerPrefix):]
	hash, _, ok := strings.Cut(rest, " -->")
	if !ok {
		return ""
	}
	return hash
}

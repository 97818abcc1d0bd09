package publish

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRenderBodyCarriesHash(t *testing.T) {
	body, hash := renderBody("title", "text")
	if markerHash(body) != hash || !strings.HasPrefix(body, "text") {
		t.Fatalf("body %q hash %q", body, hash)
	}
	if _, other := renderBody("title2", "text"); other == hash {
		t.Fatal("title must be part of the hash")
	}
	if markerHash("no marker") != "" || markerHash(markerPrefix+"abc") != "" {
		t.Fatal("malformed markers must give no hash")
	}
}

func TestRenderBodyStaysUnderLimit(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"ascii", strings.Repeat("a", 2*MaxBodyBytes)},
		{"multi-byte", strings.Repeat("ä€😀", MaxBodyBytes)},
		{"exactly fits", strings.Repeat("b", MaxBodyBytes-len("\n\n"+markerPrefix+" -->")-32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, hash := renderBody("t", tt.body)
			if len(body) > MaxBodyBytes || !utf8.ValidString(body) || markerHash(body) != hash {
				t.Fatalf("len %d valid %v", len(body), utf8.ValidString(body))
			}
			if hash != bodyHash("t", tt.body) {
				t.Fatal("hash must be of the untruncated text")
			}
			truncated := strings.Contains(body, truncatedNote)
			if truncated != (len(tt.body) > MaxBodyBytes-len("\n\n"+markerPrefix+" -->")-32) {
				t.Fatalf("truncated=%v for len %d", truncated, len(tt.body))
			}
		})
	}
}

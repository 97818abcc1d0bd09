package ingest

import (
	"strings"
	"testing"
)

func TestParseTokens(t *testing.T) {
	tk, err := ParseTokens([]byte("# comment\na=" + tokenA + ", b=" + tokenB + "\n\n*=" + tokenAll + "==\n"))
	if err != nil || tk.Len() != 3 {
		t.Fatalf("ParseTokens: %d tokens, %v", tk.Len(), err)
	}
	for token, want := range map[string]string{tokenA: "a", tokenB: "b", tokenAll + "==": "*"} {
		if got, ok := tk.Cluster(token); !ok || got != want {
			t.Errorf("Cluster(%s) = %q %v, want %q", token, got, ok, want)
		}
	}
	if _, ok := tk.Cluster("unknown-token-xxxxxx"); ok {
		t.Error("unknown token accepted")
	}
	for input, want := range map[string]string{
		"a":                   "line 1: entry must be cluster=token",
		"a=short":             "line 1: token for cluster a is shorter than 16 characters",
		"\nBad=" + tokenA:     `line 2: cluster: "Bad" must be a DNS-1123 label`,
		"a=" + tokenA + ",b=": "line 1: entry must be cluster=token",
	} {
		_, err := ParseTokens([]byte(input))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseTokens(%q) = %v, want %q", input, err, want)
		}
		if err != nil && strings.Contains(err.Error(), tokenA) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		header, want string
		ok           bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true}, // RFC 7235: the scheme is case-insensitive
		{"BEARER abc", "abc", true},
		{"Bearer   abc", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic YWxhZGRpbjpvcGVuc2VzYW1l", "", false},
		{"Bearerabc", "", false},
		{"", "", false},
	} {
		if got, ok := bearerToken(tc.header); got != tc.want || ok != tc.ok {
			t.Errorf("bearerToken(%q) = %q %v, want %q %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

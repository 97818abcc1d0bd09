package ingest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// AnyCluster in a token entry lets the token write every cluster.
const AnyCluster = "*"

// Tokens maps bearer tokens to the cluster each may write. Only hashes are
// kept, so a heap dump or a %v never shows a token.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	hash    [sha256.Size]byte
	cluster string
}

// ParseTokens reads token entries as `cluster=token`, separated by commas
// or newlines; blank lines and lines starting with '#' are skipped. The
// cluster is a DNS-1123 label or "*". Errors name the line, never a token.
func ParseTokens(data []byte) (Tokens, error) {
	var t Tokens
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		for _, field := range strings.Split(sc.Text(), ",") {
			field = strings.TrimSpace(field)
			if field == "" || strings.HasPrefix(field, "#") {
				continue
			}
			cluster, token, ok := strings.Cut(field, "=")
			cluster, token = strings.TrimSpace(cluster), strings.TrimSpace(token)
			if !ok || token == "" {
				return Tokens{}, fmt.Errorf("line %d: entry must be cluster=token", line)
			}
			if cluster != AnyCluster {
				if err := status.ValidateCluster("cluster", cluster); err != nil {
					return Tokens{}, fmt.Errorf("line %d: %v", line, err)
				}
			}
			if len(token) < 16 {
				return Tokens{}, fmt.Errorf("line %d: token for cluster %s is shorter than 16 characters", line, cluster)
			}
			t.entries = append(t.entries, tokenEntry{hash: sha256.Sum256([]byte(token)), cluster: cluster})
		}
	}
	return t, sc.Err()
}

// Len is the number of configured tokens; zero means the API is open.
func (t Tokens) Len() int { return len(t.entries) }

// Cluster returns the cluster the token may write ("*" for any) and
// whether the token is known. Every entry is compared in constant time.
func (t Tokens) Cluster(token string) (string, bool) {
	h := sha256.Sum256([]byte(token))
	found := ""
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 && found == "" {
			found = e.cluster
		}
	}
	return found, found != ""
}

// bearerToken returns the token of an `Authorization: Bearer <token>`
// header. The scheme is matched case-insensitively (RFC 7235 section 2.1)
// and the spaces after it are skipped.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

// Allows reports whether a token scoped to granted may act on cluster.
func Allows(granted, cluster string) bool {
	return granted == AnyCluster || granted == cluster
}

// with returns the entries of t followed by those of more, sharing neither.
func (t Tokens) with(more Tokens) Tokens {
	return Tokens{entries: append(append([]tokenEntry(nil), t.entries...), more.entries...)}
}

package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultClaimLimit is how many claims one cluster may hold unless
// SetClaimLimit says otherwise (INGEST_MAX_CLAIMS_PER_CLUSTER).
const DefaultClaimLimit = 50000

// SetClaimLimit sets how many claims (records) one cluster may hold; a
// write that would add claims beyond it fails whole with a
// *ClaimLimitError. 0 lifts the limit. Safe to call at any time.
func (s *Store) SetClaimLimit(n int) { s.claimLimit.Store(int64(max(n, 0))) }

// ClaimLimitError is a refused write: it would have taken Cluster from
// Held claims past Limit by adding New ones. Nothing of the write was
// stored.
type ClaimLimitError struct {
	Cluster          string
	Held, New, Limit int64
}

// Error names the cluster, the counts and the limit.
func (e *ClaimLimitError) Error() string {
	return fmt.Sprintf("cluster %s holds %d claims; %d new ones would exceed the limit of %d claims per cluster",
		e.Cluster, e.Held, e.New, e.Limit)
}

// ErrFull means Redis refused the write because it reached its maxmemory
// (with the noeviction policy). Nothing of the write was stored: the
// script decides everything before its first write, and Redis refuses a
// script at that first write.
var ErrFull = errors.New("redis is full (maxmemory reached); nothing was stored")

// scriptError turns the apply script's refusals into typed errors and
// passes other errors through.
func scriptError(err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "CLAIMLIMIT "); ok {
		if f := strings.Fields(rest); len(f) == 4 {
			e := &ClaimLimitError{Cluster: f[0]}
			e.Held, _ = strconv.ParseInt(f[1], 10, 64)
			e.New, _ = strconv.ParseInt(f[2], 10, 64)
			e.Limit, _ = strconv.ParseInt(f[3], 10, 64)
			return e
		}
	}
	// Redis says "OOM command not allowed when used memory > 'maxmemory'",
	// inside a script prefixed by the script's own context.
	if strings.HasPrefix(msg, "OOM ") || strings.Contains(msg, "OOM command not allowed") {
		return fmt.Errorf("%w: %s", ErrFull, msg)
	}
	return err
}

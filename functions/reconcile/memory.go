package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// savedState is what a run keeps in the store between runs: the
// publisher's state and, for a sharded registry, what each file was
// computed from, so a later run reads only the files whose base blob or
// whose clusters' records changed.
type savedState struct {
	publish.State
	Shards *shardMemory `json:"shards,omitempty"`
}

// shardMemory remembers the last successful publish of a sharded
// registry. A file's output is a function of its base blob and the
// records of the clusters it depends on, so while neither moved the
// remembered output blob (already in the repository) stands for it.
type shardMemory struct {
	// Clusters maps each cluster in the store to its records' fingerprint.
	Clusters map[string]string `json:"clusters"`
	// Files maps a file path (or a cluster's would-be path) to its memory.
	Files map[string]fileMemory `json:"files"`
}

// anyCluster in fileMemory.Deps marks a file that depends on every
// cluster (a ClaimRegistry matches claims of any cluster by name).
const anyCluster = "*"

// fileMemory is one file's last output and the PR text it contributed.
type fileMemory struct {
	Base string   `json:"base,omitempty"` // base blob SHA; "" for a file the base lacks
	Out  string   `json:"out,omitempty"`  // output blob SHA; "" when no file is proposed
	Deps []string `json:"deps,omitempty"` // clusters whose records the output was computed from
	// Orphans are the clusters no file held, which the first file of a
	// glob received (they are also in Deps).
	Orphans []string `json:"orphans,omitempty"`
	// Section is the file's part of the PR body; the counts feed Result.
	Section string `json:"section,omitempty"`
	Changed int    `json:"changed,omitempty"`
	Deleted int    `json:"deleted,omitempty"`
	Missing int    `json:"missing,omitempty"`
	// NotReady and Clusters feed the title and commit templates.
	NotReady int      `json:"notReady,omitempty"`
	Clusters []string `json:"clusters,omitempty"`
}

// fingerprint hashes what of a cluster's records can reach a registry
// file. The timestamps are left out: a periodic resync refreshes them
// without changing any status, and a file is rewritten only when a
// status changes, so a run that reads no file keeps the lastCheckedAt it
// proposed before until a status or the base file moves. records are
// sorted by key (as the store returns them), so the hash is stable.
func fingerprint(records []status.Record) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, r := range records {
		r.ObservedAt, r.ReceivedAt = "", ""
		_ = enc.Encode(r) // a hash.Hash never fails a write
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Package status holds the status record of one claim in one cluster: its
// wire shape, its validation and the identity used to store it.
package status

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Ready values a record may carry.
const (
	ReadyTrue    = "True"
	ReadyFalse   = "False"
	ReadyUnknown = "Unknown"
)

// MaxMessageBytes bounds statusMessage so one noisy claim cannot bloat Redis or a PR.
const MaxMessageBytes = 4096

// Record is the status of one claim in one cluster. Only Cluster, ClaimRef
// and StatusMessage are required on the wire, so seed clients keep working.
type Record struct {
	Cluster            string `json:"cluster"`
	ClaimRef           string `json:"claimRef"`
	Kind               string `json:"kind,omitempty"`
	UID                string `json:"uid,omitempty"`
	StatusMessage      string `json:"statusMessage"`
	Ready              string `json:"ready,omitempty"`
	Reason             string `json:"reason,omitempty"`
	Synced             string `json:"synced,omitempty"`
	Generation         int64  `json:"generation,omitempty"`
	ObservedGeneration int64  `json:"observedGeneration,omitempty"`
	ObservedAt         string `json:"observedAt,omitempty"`
	ReceivedAt         string `json:"receivedAt,omitempty"`
	Deleted            bool   `json:"deleted,omitempty"`
	// LastTransitionTime is when the Ready condition last changed: the
	// agent sends the condition's own; for a not-ready record without one
	// the ingest fills in when it first saw that status (RFC 3339, UTC).
	LastTransitionTime string `json:"lastTransitionTime,omitempty"`

	observed time.Time // ObservedAt parsed by Normalize
}

// Batch is the body of POST /api/v1/statuses. Items may omit cluster; they
// inherit the batch's.
type Batch struct {
	Cluster string   `json:"cluster"`
	Items   []Record `json:"items"`
}

// Key identifies the record within its cluster: the claimRef, qualified by
// kind when known so two kinds may share a name.
func (r *Record) Key() string {
	if r.Kind == "" {
		return r.ClaimRef
	}
	return r.ClaimRef + "#" + r.Kind
}

// Namespace and Name split ClaimRef; both are empty when it is malformed.
func (r *Record) Namespace() string {
	ns, _, ok := strings.Cut(r.ClaimRef, "/")
	if !ok {
		return ""
	}
	return ns
}

// Name is the claim's name, the part of ClaimRef after the slash.
func (r *Record) Name() string {
	_, name, _ := strings.Cut(r.ClaimRef, "/")
	return name
}

// State is a one-letter summary used for per-cluster counts: D deleted,
// R ready, N anything else.
func (r *Record) State() byte {
	switch {
	case r.Deleted:
		return 'D'
	case r.Ready == ReadyTrue:
		return 'R'
	default:
		return 'N'
	}
}

// ContentHash covers every field that describes the claim's status, and
// none of the timestamps, so a re-sent identical status is "unchanged".
func (r *Record) ContentHash() uint64 {
	h := fnv.New64a()
	var buf [20]byte
	for _, s := range []string{r.Kind, r.UID, r.StatusMessage, r.Ready, r.Reason, r.Synced} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(strconv.AppendInt(buf[:0], r.Generation, 10))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(buf[:0], r.ObservedGeneration, 10))
	if r.Deleted {
		h.Write([]byte{1})
	}
	return h.Sum64()
}

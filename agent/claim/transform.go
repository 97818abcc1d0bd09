package claim

import (
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// maxReasonBytes matches the collector's limit on reason.
const maxReasonBytes = 256

// Transform is a cache.TransformFunc: it replaces an
// *unstructured.Unstructured claim with its compact *Claim before the
// informer stores it. The informer may hand an already transformed object
// back (on resync), so a *Claim passes through unchanged. Anything else is
// an error, which the informer logs.
func Transform(obj any) (any, error) {
	switch o := obj.(type) {
	case *Claim:
		return o, nil
	case *unstructured.Unstructured:
		return FromUnstructured(o), nil
	default:
		return nil, fmt.Errorf("claim transform: unexpected object type %T", obj)
	}
}

// FromUnstructured extracts a Claim from a claim object. Missing or
// malformed status fields yield empty conditions, never an error: a claim
// that Crossplane has not reconciled yet still has a status to report
// (Ready=Unknown).
func FromUnstructured(u *unstructured.Unstructured) *Claim {
	c := &Claim{}
	c.APIVersion = intern(u.GetAPIVersion())
	c.Kind = intern(u.GetKind())
	c.Namespace = u.GetNamespace()
	c.Name = u.GetName()
	c.UID = u.GetUID()
	c.Generation = u.GetGeneration()
	c.ResourceVersion = u.GetResourceVersion()

	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, raw := range conds {
		m, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		var dst *Condition
		switch m["type"] {
		case "Ready":
			dst = &c.Ready
		case "Synced":
			dst = &c.Synced
		default:
			continue
		}
		*dst = Condition{
			Status:             intern(normalStatus(str(m["status"]))),
			Reason:             intern(truncate(str(m["reason"]), maxReasonBytes)),
			Message:            truncate(str(m["message"]), status.MaxMessageBytes),
			ObservedGeneration: int64Of(m["observedGeneration"]),
			LastTransitionTime: timestamp(m["lastTransitionTime"]),
		}
	}
	return c
}

// normalStatus maps anything but True and False to Unknown, the only other
// value the collector accepts.
func normalStatus(s string) string {
	switch s {
	case status.ReadyTrue, status.ReadyFalse:
		return s
	default:
		return status.ReadyUnknown
	}
}

// str is v as a string, "" for any other type.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// timestamp is v when it is an RFC 3339 time, else "": a malformed
// timestamp must not make the collector refuse the whole batch.
func timestamp(v any) string {
	s := str(v)
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return ""
	}
	return s
}

// int64Of accepts the number types JSON decoders produce.
func int64Of(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	default:
		return 0
	}
}

// truncate cuts s to at most max bytes on a rune boundary, so a huge
// message can neither bloat the cache nor make the collector refuse the
// batch.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	// s[cut] is the first byte dropped; back off while it continues a rune.
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// interned holds the few distinct values of kind, apiVersion, condition
// status and reason, so thousands of cached claims share one copy of each.
// It is bounded: past maxInterned distinct values strings are kept as is.
var interned = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

const maxInterned = 4096

// intern returns the shared copy of s, adding s while there is room.
func intern(s string) string {
	if s == "" {
		return ""
	}
	interned.Lock()
	defer interned.Unlock()
	if v, ok := interned.m[s]; ok {
		return v
	}
	if len(interned.m) < maxInterned {
		interned.m[s] = s
	}
	return s
}

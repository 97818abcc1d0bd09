package status

import (
	"fmt"
	"strings"
	"time"
)

// isLabel reports whether s is a DNS-1123 label (without the length
// limit): lower-case letters, digits and '-', starting and ending with a
// letter or digit. Hand-written: regexp cost a fifth of the ingest's CPU.
func isLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isSubdomain reports whether s is dot-separated DNS-1123 labels.
func isSubdomain(s string) bool {
	for {
		label, rest, more := strings.Cut(s, ".")
		if !isLabel(label) {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}

// isUID reports whether s holds only letters, digits and '-'.
func isUID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// MaxClockSkew is how far in the future an observedAt may lie before the
// ingest replaces it with its own time.
const MaxClockSkew = time.Minute

// FieldError names the field that failed and why. Path is the JSON path in
// the request, e.g. "items[3].claimRef".
type FieldError struct {
	Path   string
	Reason string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Reason }

// ValidateCluster checks a cluster name: a DNS-1123 label.
func ValidateCluster(path, cluster string) error {
	switch {
	case cluster == "":
		return &FieldError{path, "is required"}
	case len(cluster) > 63:
		return &FieldError{path, fmt.Sprintf("must be at most 63 characters, got %d", len(cluster))}
	case !isLabel(cluster):
		return &FieldError{path, fmt.Sprintf("%q must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)", cluster)}
	}
	return nil
}

// Normalize validates r and fills the fields the ingest owns. prefix is the
// JSON path of the record ("" for a single update, "items[3]." in a batch);
// now becomes receivedAt, and observedAt when the client sent none. All
// timestamps come out as RFC 3339 with nanoseconds in UTC.
func (r *Record) Normalize(prefix string, now time.Time) error {
	return r.normalize(prefix, now.UTC(), now.UTC().Format(time.RFC3339Nano))
}

// NormalizeAll normalizes every record of a batch received at now, as
// Normalize does, formatting now once. On failure it returns the index of
// the first invalid record and its error (paths relative to the record).
func NormalizeAll(records []Record, now time.Time) (int, error) {
	now = now.UTC()
	receivedAt := now.Format(time.RFC3339Nano)
	for i := range records {
		if err := records[i].normalize("", now, receivedAt); err != nil {
			return i, err
		}
	}
	return -1, nil
}

// normalize is Normalize with now in UTC and already formatted.
func (r *Record) normalize(prefix string, now time.Time, receivedAt string) error {
	if err := ValidateCluster(prefix+"cluster", r.Cluster); err != nil {
		return err
	}
	if err := validateClaimRef(prefix+"claimRef", r.ClaimRef); err != nil {
		return err
	}
	if err := validateKind(prefix+"kind", r.Kind); err != nil {
		return err
	}
	if len(r.UID) > 128 || !isUID(r.UID) {
		return &FieldError{prefix + "uid", fmt.Sprintf("%q must be at most 128 letters, digits and '-'", r.UID)}
	}
	if len(r.StatusMessage) > MaxMessageBytes {
		return &FieldError{prefix + "statusMessage", fmt.Sprintf("must be at most %d bytes, got %d", MaxMessageBytes, len(r.StatusMessage))}
	}
	if r.StatusMessage == "" {
		return &FieldError{prefix + "statusMessage", "is required"}
	}
	switch r.Ready {
	case "", ReadyTrue, ReadyFalse, ReadyUnknown:
	default:
		return &FieldError{prefix + "ready", fmt.Sprintf("%q must be one of True, False, Unknown", r.Ready)}
	}
	switch r.Synced {
	case "", ReadyTrue, ReadyFalse, ReadyUnknown:
	default:
		return &FieldError{prefix + "synced", fmt.Sprintf("%q must be one of True, False, Unknown", r.Synced)}
	}
	if len(r.Reason) > 256 {
		return &FieldError{prefix + "reason", fmt.Sprintf("must be at most 256 bytes, got %d", len(r.Reason))}
	}
	if r.Generation < 0 {
		return &FieldError{prefix + "generation", "must not be negative"}
	}
	if r.ObservedGeneration < 0 {
		return &FieldError{prefix + "observedGeneration", "must not be negative"}
	}
	r.ReceivedAt = receivedAt
	if r.LastTransitionTime != "" {
		t, err := time.Parse(time.RFC3339Nano, r.LastTransitionTime)
		if err != nil {
			return &FieldError{prefix + "lastTransitionTime", fmt.Sprintf("%q must be an RFC 3339 timestamp", r.LastTransitionTime)}
		}
		// A transition in the future would head the status page for good.
		if t.After(now.Add(MaxClockSkew)) {
			t = now
		}
		r.LastTransitionTime = t.UTC().Format(time.RFC3339Nano)
	}
	if r.ObservedAt == "" {
		r.observed = now
		r.ObservedAt = r.ReceivedAt
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, r.ObservedAt)
	if err != nil {
		return &FieldError{prefix + "observedAt", fmt.Sprintf("%q must be an RFC 3339 timestamp", r.ObservedAt)}
	}
	if t.Before(time.Unix(0, 0)) {
		return &FieldError{prefix + "observedAt", fmt.Sprintf("%q must not be before 1970", r.ObservedAt)}
	}
	// An agent whose clock runs ahead would otherwise make every later,
	// honest update look stale until its timestamp passes.
	if t.After(now.Add(MaxClockSkew)) {
		t = now
	}
	r.observed = t.UTC()
	// Keep the client's string when it already is the canonical form (the
	// agent sends that), sparing an allocation per record.
	var buf [40]byte
	if canon := r.observed.AppendFormat(buf[:0], time.RFC3339Nano); string(canon) != r.ObservedAt {
		r.ObservedAt = string(canon)
	}
	return nil
}

// ObservedTime is ObservedAt as a time: kept from Normalize, else parsed;
// the zero time when absent or malformed.
func (r *Record) ObservedTime() time.Time {
	if !r.observed.IsZero() {
		return r.observed
	}
	t, _ := time.Parse(time.RFC3339Nano, r.ObservedAt)
	return t
}

// validateKind checks an optional kind: Kind.group, where Kind is an
// identifier (an ASCII letter, then letters, digits or '_', at most 63)
// and group a DNS-1123 subdomain (at most 253), as Kubernetes names them.
// Anything else could carry markup into the pull request.
func validateKind(path, kind string) error {
	if kind == "" {
		return nil
	}
	name, group, ok := strings.Cut(kind, ".")
	if !ok || len(name) > 63 || !isIdentifier(name) || len(group) > 253 || !isSubdomain(group) {
		return &FieldError{path, fmt.Sprintf("%q must be Kind.group (an identifier of at most 63 characters, a dot, a DNS-1123 subdomain of at most 253), e.g. PostgreSQL.database.example.org", kind)}
	}
	return nil
}

// isIdentifier reports whether s is an ASCII letter followed by letters,
// digits and '_'.
func isIdentifier(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validateClaimRef(path, ref string) error {
	if ref == "" {
		return &FieldError{path, "is required"}
	}
	ns, name, ok := strings.Cut(ref, "/")
	if !ok {
		return &FieldError{path, fmt.Sprintf("%q must be namespace/name", ref)}
	}
	if len(ns) > 63 || !isLabel(ns) {
		return &FieldError{path, fmt.Sprintf("namespace %q must be a DNS-1123 label", ns)}
	}
	if len(name) > 253 || !isSubdomain(name) {
		return &FieldError{path, fmt.Sprintf("name %q must be a DNS-1123 subdomain", name)}
	}
	return nil
}

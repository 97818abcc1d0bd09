package status

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

var (
	dns1123Label     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	uidChars         = regexp.MustCompile(`^[A-Za-z0-9-]*$`)
)

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
	case !dns1123Label.MatchString(cluster):
		return &FieldError{path, fmt.Sprintf("%q must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)", cluster)}
	}
	return nil
}

// Normalize validates r and fills the fields the ingest owns. prefix is the
// JSON path of the record ("" for a single update, "items[3]." in a batch);
// now becomes receivedAt, and observedAt when the client sent none. All
// timestamps come out as RFC 3339 with nanoseconds in UTC.
func (r *Record) Normalize(prefix string, now time.Time) error {
	if err := ValidateCluster(prefix+"cluster", r.Cluster); err != nil {
		return err
	}
	if err := validateClaimRef(prefix+"claimRef", r.ClaimRef); err != nil {
		return err
	}
	if r.Kind != "" {
		kind, group, ok := strings.Cut(r.Kind, ".")
		if !ok || kind == "" || !dns1123Subdomain.MatchString(group) || strings.ContainsAny(kind, " /#") {
			return &FieldError{prefix + "kind", fmt.Sprintf("%q must be Kind.group, e.g. PostgreSQL.database.example.org", r.Kind)}
		}
	}
	if len(r.UID) > 128 || !uidChars.MatchString(r.UID) {
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
	r.ReceivedAt = now.UTC().Format(time.RFC3339Nano)
	if r.ObservedAt == "" {
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
	r.ObservedAt = t.UTC().Format(time.RFC3339Nano)
	return nil
}

// ObservedTime parses ObservedAt; the zero time when absent or malformed.
func (r *Record) ObservedTime() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, r.ObservedAt)
	return t
}

func validateClaimRef(path, ref string) error {
	if ref == "" {
		return &FieldError{path, "is required"}
	}
	ns, name, ok := strings.Cut(ref, "/")
	if !ok {
		return &FieldError{path, fmt.Sprintf("%q must be namespace/name", ref)}
	}
	if len(ns) > 63 || !dns1123Label.MatchString(ns) {
		return &FieldError{path, fmt.Sprintf("namespace %q must be a DNS-1123 label", ns)}
	}
	if len(name) > 253 || !dns1123Subdomain.MatchString(name) {
		return &FieldError{path, fmt.Sprintf("name %q must be a DNS-1123 subdomain", name)}
	}
	return nil
}

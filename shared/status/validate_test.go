package status

import (
	"strings"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	valid := func() Record {
		return Record{Cluster: "cluster-01", ClaimRef: "default/my-db", StatusMessage: "Available"}
	}
	tests := []struct {
		name    string
		edit    func(*Record)
		wantErr string
	}{
		{"seed payload", func(*Record) {}, ""},
		{"all fields", func(r *Record) {
			r.Kind, r.UID, r.Ready, r.Synced, r.Reason = "PostgreSQL.database.example.org", "0b1c-22", "True", "False", "Available"
			r.ObservedAt = "2026-11-25T09:59:59.123456789+01:00"
		}, ""},
		{"deleted", func(r *Record) { r.Deleted = true }, ""},
		{"no cluster", func(r *Record) { r.Cluster = "" }, "items[0].cluster: is required"},
		{"cluster upper case", func(r *Record) { r.Cluster = "Prod" }, `items[0].cluster: "Prod" must be a DNS-1123 label`},
		{"cluster too long", func(r *Record) { r.Cluster = strings.Repeat("a", 64) }, "items[0].cluster: must be at most 63 characters, got 64"},
		{"claimRef without slash", func(r *Record) { r.ClaimRef = "my-db" }, `items[0].claimRef: "my-db" must be namespace/name`},
		{"claimRef bad namespace", func(r *Record) { r.ClaimRef = "Default/db" }, `items[0].claimRef: namespace "Default" must be a DNS-1123 label`},
		{"claimRef bad name", func(r *Record) { r.ClaimRef = "default/db_1" }, `items[0].claimRef: name "db_1" must be a DNS-1123 subdomain`},
		{"claimRef dotted name", func(r *Record) { r.ClaimRef = "default/db.v1" }, ""},
		{"no message", func(r *Record) { r.StatusMessage = "" }, "items[0].statusMessage: is required"},
		{"message at limit", func(r *Record) { r.StatusMessage = strings.Repeat("x", MaxMessageBytes) }, ""},
		{"message too long", func(r *Record) { r.StatusMessage = strings.Repeat("x", MaxMessageBytes+1) }, "items[0].statusMessage: must be at most 4096 bytes, got 4097"},
		{"ready invalid", func(r *Record) { r.Ready = "true" }, `items[0].ready: "true" must be one of True, False, Unknown`},
		{"synced invalid", func(r *Record) { r.Synced = "yes" }, `items[0].synced: "yes" must be one of True, False, Unknown`},
		{"kind without group", func(r *Record) { r.Kind = "PostgreSQL" }, `items[0].kind: "PostgreSQL" must be Kind.group`},
		{"kind with digits and underscore", func(r *Record) { r.Kind = "S3_Bucket2.aws.upbound.io" }, ""},
		{"kind with markup", func(r *Record) { r.Kind = "<b>X</b>.example.org" }, `items[0].kind: "<b>X</b>.example.org" must be Kind.group`},
		{"kind with mention", func(r *Record) { r.Kind = "@admin.example.org" }, `items[0].kind: "@admin.example.org" must be Kind.group`},
		{"kind starting with digit", func(r *Record) { r.Kind = "1X.example.org" }, `items[0].kind: "1X.example.org" must be Kind.group`},
		{"kind with space", func(r *Record) { r.Kind = "Fixes #1.example.org" }, `items[0].kind: "Fixes #1.example.org" must be Kind.group`},
		{"kind with empty name", func(r *Record) { r.Kind = ".example.org" }, `items[0].kind: ".example.org" must be Kind.group`},
		{"kind with upper-case group", func(r *Record) { r.Kind = "X.Example.org" }, `items[0].kind: "X.Example.org" must be Kind.group`},
		{"kind with group ending in dot", func(r *Record) { r.Kind = "X.example." }, `items[0].kind: "X.example." must be Kind.group`},
		{"kind name too long", func(r *Record) { r.Kind = strings.Repeat("K", 64) + ".example.org" }, `items[0].kind: "KKKK`},
		{"kind name at limit", func(r *Record) { r.Kind = strings.Repeat("K", 63) + ".example.org" }, ""},
		{"kind with bidi override", func(r *Record) { r.Kind = "X\u202e.example.org" }, `items[0].kind: "X\u202e.example.org" must be Kind.group`},
		{"uid with tab", func(r *Record) { r.UID = "a\tb" }, `items[0].uid: "a\tb" must be at most 128 letters`},
		{"negative generation", func(r *Record) { r.Generation = -1 }, "items[0].generation: must not be negative"},
		{"observedAt not RFC 3339", func(r *Record) { r.ObservedAt = "yesterday" }, `items[0].observedAt: "yesterday" must be an RFC 3339 timestamp`},
		{"lastTransitionTime not RFC 3339", func(r *Record) { r.LastTransitionTime = "2026-11-25" }, `items[0].lastTransitionTime: "2026-11-25" must be an RFC 3339 timestamp`},
		{"observedAt before 1970", func(r *Record) { r.ObservedAt = "1969-12-31T23:59:59Z" }, "items[0].observedAt: \"1969-12-31T23:59:59Z\" must not be before 1970"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.edit(&r)
			err := r.Normalize("items[0].", now)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Normalize: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Normalize error = %v, want prefix %q", err, tt.wantErr)
			}
		})
	}
}

func TestNormalizeTimestamps(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 5, time.UTC)
	tests := []struct{ observed, want string }{
		{"", "2026-11-25T10:00:00.000000005Z"},
		{"2026-11-25T10:59:59.5+01:00", "2026-11-25T09:59:59.5Z"},
		{"2026-11-25T10:00:59Z", "2026-11-25T10:00:59Z"},           // within the allowed skew
		{"2026-11-25T12:00:00Z", "2026-11-25T10:00:00.000000005Z"}, // clock far ahead: replaced by now
	}
	for _, tt := range tests {
		r := Record{Cluster: "c", ClaimRef: "ns/n", StatusMessage: "m", ObservedAt: tt.observed}
		if err := r.Normalize("", now); err != nil {
			t.Fatalf("Normalize(%q): %v", tt.observed, err)
		}
		if r.ObservedAt != tt.want || r.ReceivedAt != "2026-11-25T10:00:00.000000005Z" {
			t.Errorf("Normalize(%q): observedAt=%s receivedAt=%s, want %s", tt.observed, r.ObservedAt, r.ReceivedAt, tt.want)
		}
	}
}

func TestNormalizeLastTransitionTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct{ in, want string }{
		{"", ""},
		{"2026-11-25T10:59:59.5+01:00", "2026-11-25T09:59:59.5Z"},
		{"2026-11-25T12:00:00Z", "2026-11-25T10:00:00Z"}, // in the future: now
	}
	for _, tt := range tests {
		r := Record{Cluster: "c", ClaimRef: "ns/n", StatusMessage: "m", LastTransitionTime: tt.in}
		if err := r.Normalize("", now); err != nil {
			t.Fatalf("Normalize(%q): %v", tt.in, err)
		}
		if r.LastTransitionTime != tt.want {
			t.Errorf("Normalize(%q): lastTransitionTime=%s, want %s", tt.in, r.LastTransitionTime, tt.want)
		}
	}
}

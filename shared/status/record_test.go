package status

import "testing"

func TestKeyAndParts(t *testing.T) {
	r := Record{ClaimRef: "team-a/db"}
	if r.Key() != "team-a/db" || r.Namespace() != "team-a" || r.Name() != "db" {
		t.Fatalf("got key=%q ns=%q name=%q", r.Key(), r.Namespace(), r.Name())
	}
	r.Kind = "PostgreSQL.database.example.org"
	if got := r.Key(); got != "team-a/db#PostgreSQL.database.example.org" {
		t.Fatalf("Key with kind = %q", got)
	}
}

func TestContentHashIgnoresTimestamps(t *testing.T) {
	a := Record{Cluster: "c", ClaimRef: "ns/n", StatusMessage: "m", Ready: "True", ObservedAt: "2026-01-01T00:00:00Z", ReceivedAt: "x"}
	b := a
	b.ObservedAt, b.ReceivedAt = "2026-02-01T00:00:00Z", "y"
	if a.ContentHash() != b.ContentHash() {
		t.Fatal("hash changed with timestamps only")
	}
	for name, edit := range map[string]func(*Record){
		"message": func(r *Record) { r.StatusMessage = "m2" },
		"ready":   func(r *Record) { r.Ready = "False" },
		"reason":  func(r *Record) { r.Reason = "x" },
		"synced":  func(r *Record) { r.Synced = "True" },
		"deleted": func(r *Record) { r.Deleted = true },
		"uid":     func(r *Record) { r.UID = "u" },
		"gen":     func(r *Record) { r.Generation = 2 },
		"obsgen":  func(r *Record) { r.ObservedGeneration = 2 },
	} {
		c := a
		edit(&c)
		if c.ContentHash() == a.ContentHash() {
			t.Errorf("hash did not change with %s", name)
		}
	}
}

func TestState(t *testing.T) {
	for _, tt := range []struct {
		r    Record
		want byte
	}{{Record{Ready: "True"}, 'R'}, {Record{Ready: "False"}, 'N'}, {Record{}, 'N'}, {Record{Ready: "True", Deleted: true}, 'D'}} {
		if got := tt.r.State(); got != tt.want {
			t.Errorf("State(%+v) = %c, want %c", tt.r, got, tt.want)
		}
	}
}

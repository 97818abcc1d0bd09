package claim

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

// obj builds a claim the way the API server returns it, with the noise
// the transform must drop.
func obj(conditions ...map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "database.example.org/v1alpha1",
		"kind":       "PostgreSQL",
		"metadata": map[string]any{
			"namespace": "team-a", "name": "db1", "uid": "u-1", "generation": int64(3),
			"resourceVersion": "42",
			"labels":          map[string]any{"app": "x"},
			"annotations":     map[string]any{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 4000)},
			"managedFields":   []any{map[string]any{"manager": "crossplane", "fieldsV1": map[string]any{"f:spec": map[string]any{}}}},
		},
		"spec": map[string]any{"parameters": map[string]any{"size": "large"}},
	}}
	if conditions != nil {
		list := make([]any, len(conditions))
		for i, c := range conditions {
			list[i] = c
		}
		u.Object["status"] = map[string]any{"conditions": list}
	}
	return u
}

func record(t *testing.T, u *unstructured.Unstructured) status.Record {
	t.Helper()
	out, err := Transform(u)
	if err != nil {
		t.Fatal(err)
	}
	r := out.(*Claim).Record("c1")
	if err := r.Normalize("", testNow); err != nil {
		t.Fatalf("record %+v is not valid for the collector: %v", r, err)
	}
	return r
}

func TestRecordFromCrossplaneShapes(t *testing.T) {
	tests := []struct {
		name                       string
		u                          *unstructured.Unstructured
		msg, ready, reason, synced string
		observedGen                int64
		since                      string
	}{
		{name: "no status", u: obj(), msg: "Ready=Unknown", ready: "Unknown"},
		{
			name: "synced but no Ready",
			u:    obj(map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess"}),
			msg:  "Ready=Unknown", ready: "Unknown", synced: "True",
		},
		{
			name: "Ready True with empty message",
			u: obj(map[string]any{"type": "Ready", "status": "True", "reason": "Available", "observedGeneration": int64(3)},
				map[string]any{"type": "Synced", "status": "True"}),
			msg: "Ready=True", ready: "True", reason: "Available", synced: "True", observedGen: 3,
		},
		{
			name: "Ready False with reason and message",
			u: obj(map[string]any{"type": "Ready", "status": "False", "reason": "Creating", "message": "waiting for the database", "observedGeneration": float64(2), "lastTransitionTime": "2025-11-25T09:00:00Z"},
				map[string]any{"type": "Synced", "status": "False", "reason": "ReconcileError", "lastTransitionTime": "2025-11-25T08:00:00Z"}),
			msg: "waiting for the database", ready: "False", reason: "Creating", synced: "False", observedGen: 2, since: "2025-11-25T09:00:00Z",
		},
		{
			name: "malformed lastTransitionTime is dropped",
			u:    obj(map[string]any{"type": "Ready", "status": "False", "lastTransitionTime": "yesterday"}),
			msg:  "Ready=False", ready: "False",
		},
		{
			name: "odd status value",
			u:    obj(map[string]any{"type": "Ready", "status": "Maybe"}),
			msg:  "Ready=Unknown", ready: "Unknown",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := record(t, tt.u)
			if r.StatusMessage != tt.msg || r.Ready != tt.ready || r.Reason != tt.reason || r.Synced != tt.synced || r.ObservedGeneration != tt.observedGen || r.LastTransitionTime != tt.since {
				t.Fatalf("got message=%q ready=%q reason=%q synced=%q observedGeneration=%d lastTransitionTime=%q", r.StatusMessage, r.Ready, r.Reason, r.Synced, r.ObservedGeneration, r.LastTransitionTime)
			}
			if r.ClaimRef != "team-a/db1" || r.Kind != "PostgreSQL.database.example.org" || r.UID != "u-1" || r.Generation != 3 || r.Cluster != "c1" {
				t.Fatalf("identity wrong: %+v", r)
			}
		})
	}
}

func TestTransformKeepsOnlyWhatIsNeeded(t *testing.T) {
	out, err := Transform(obj(map[string]any{"type": "Ready", "status": "True"}))
	if err != nil {
		t.Fatal(err)
	}
	c := out.(*Claim)
	if c.Labels != nil || c.Annotations != nil || c.ManagedFields != nil {
		t.Fatalf("metadata noise kept: %+v", c.ObjectMeta)
	}
	if c.ResourceVersion != "42" || c.Namespace != "team-a" || c.Name != "db1" {
		t.Fatalf("identity lost: %+v", c.ObjectMeta)
	}
	// Resync hands transformed objects back: must be a no-op.
	again, err := Transform(c)
	if err != nil || again.(*Claim) != c {
		t.Fatalf("transform not idempotent: %v", err)
	}
	if _, err := Transform("nope"); err == nil {
		t.Fatal("want error for a foreign type")
	}
}

func TestLongMessageIsTruncatedOnRuneBoundary(t *testing.T) {
	msg := strings.Repeat("ä", status.MaxMessageBytes) // 2 bytes each
	r := record(t, obj(map[string]any{"type": "Ready", "status": "False", "message": msg}))
	if len(r.StatusMessage) > status.MaxMessageBytes || !strings.HasPrefix(msg, r.StatusMessage) {
		t.Fatalf("message of %d bytes not cut cleanly", len(r.StatusMessage))
	}
}

func TestStatusEqualIgnoresMetadataNoise(t *testing.T) {
	a := FromUnstructured(obj(map[string]any{"type": "Ready", "status": "True"}))
	u := obj(map[string]any{"type": "Ready", "status": "True"})
	u.SetLabels(map[string]string{"other": "label"})
	u.SetResourceVersion("43")
	b := FromUnstructured(u)
	if !StatusEqual(a, b) {
		t.Fatal("label-only update counted as a status change")
	}
	c := FromUnstructured(obj(map[string]any{"type": "Ready", "status": "False"}))
	if StatusEqual(a, c) {
		t.Fatal("Ready change not seen")
	}
}

func TestDeletedRecordAndKey(t *testing.T) {
	c := FromUnstructured(obj(map[string]any{"type": "Ready", "status": "True", "message": "up"}))
	r := c.DeletedRecord("c1")
	if !r.Deleted || r.StatusMessage != "up" {
		t.Fatalf("deleted record = %+v", r)
	}
	live := c.Record("c1")
	if r.ContentHash() == live.ContentHash() {
		t.Fatal("deletion does not change the content hash")
	}
	k := KeyOf(schema.GroupResource{Group: "database.example.org", Resource: "postgresqls"}, c)
	if k.String() != "postgresqls.database.example.org/team-a/db1" {
		t.Fatalf("key = %s", k)
	}
	if cp := c.DeepCopyObject().(*Claim); cp == c || !reflect.DeepEqual(cp, c) {
		t.Fatal("DeepCopyObject is not an equal copy")
	}
}

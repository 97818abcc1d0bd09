package reconcile

import (
	"reflect"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

func TestFingerprint(t *testing.T) {
	base := []status.Record{{Cluster: "a", ClaimRef: "ns/x", StatusMessage: "ok", Ready: "True", ObservedAt: "2026-11-25T10:00:00Z", ReceivedAt: "2026-11-25T10:00:01Z"}}
	resync := []status.Record{base[0]}
	resync[0].ObservedAt, resync[0].ReceivedAt = "2026-11-25T10:10:00Z", "2026-11-25T10:10:01Z"
	changed := []status.Record{base[0]}
	changed[0].Ready = "False"
	if fingerprint(base) != fingerprint(resync) {
		t.Error("a resync that only moves the timestamps changed the fingerprint")
	}
	if fingerprint(base) == fingerprint(changed) || fingerprint(base) == fingerprint(nil) {
		t.Error("a status change kept the fingerprint")
	}
}

func TestScanHoldings(t *testing.T) {
	tests := []struct {
		name, src string
		want      holdings
		wantErr   string
	}{
		{"clusters map", "# c\ncluster-a:\n  - claimRef: ns/x\ncluster-b: []\n", holdings{clusters: []string{"cluster-a", "cluster-b"}}, ""},
		{"ClaimRegistry", "apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\nclaims:\n  - name: x\n    namespace: ns\n  - name: y\n", holdings{claims: map[string]bool{"ns/x": true, "/y": true}}, ""},
		{"empty", "", holdings{}, ""},
		{"broken", "a: [\n", holdings{}, "registry r.yaml: yaml: line 1: did not find expected node content"},
	}
	for _, tt := range tests {
		got, err := scanHoldings("r.yaml", []byte(tt.src))
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v %v, want %+v", tt.name, got, err, tt.want)
		}
	}
}

package registry

import (
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

func TestNewFile(t *testing.T) {
	recs := []status.Record{
		{Cluster: "cluster-z", ClaimRef: "team/db", Kind: "PostgreSQL.db.example.org", StatusMessage: "Available", Ready: "True", ObservedAt: "2026-11-25T10:00:00Z"},
		{Cluster: "cluster-z", ClaimRef: "team/cache", StatusMessage: "Creating", Ready: "False", ObservedAt: "2026-11-25T10:00:00Z"},
	}
	tests := []struct {
		name, example, want string
	}{
		{"clusters map keeps header and entry style",
			"# Registry of cluster-a.\n# Maintained by the collector.\n\ncluster-a:\n    -   name: pg\n        namespace: default\n        claimRef: default/pg\n        statusMessage: 'Creating'\n        lastCheckedAt: \"2026-01-01T00:00:00Z\"\n    # second\n    -   name: other\n        namespace: default\n        statusMessage: x\n",
			"# Registry of cluster-a.\n# Maintained by the collector.\n\ncluster-z:\n    -   name: cache\n        namespace: team\n        claimRef: team/cache\n        statusMessage: 'Creating'\n        lastCheckedAt: \"2026-11-25T10:00:00Z\"\n    -   name: db\n        namespace: team\n        claimRef: team/db\n        statusMessage: 'Available'\n        lastCheckedAt: \"2026-11-25T10:00:00Z\"\n"},
		{"no example",
			"",
			"cluster-z:\n  - name: cache\n    namespace: team\n    claimRef: team/cache\n    statusMessage: Creating\n    lastCheckedAt: \"2026-11-25T10:00:00Z\"\n  - name: db\n    namespace: team\n    claimRef: team/db\n    statusMessage: Available\n    lastCheckedAt: \"2026-11-25T10:00:00Z\"\n"},
		{"ClaimRegistry keeps header and later keys",
			"apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\n# claims of cluster-a\nclaims:\n  - name: pg\n    namespace: default\n    clusters:\n      cluster-a:\n        statusMessage: x\n  - name: two\n    namespace: default\nmetadata:\n  owner: platform\n",
			"apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\n# claims of cluster-a\nclaims:\n  - name: cache\n    namespace: team\n    clusters:\n      cluster-z:\n        ready: \"False\"\n        statusMessage: Creating\n        lastCheckedAt: \"2026-11-25T10:00:00Z\"\n  - name: db\n    namespace: team\n    clusters:\n      cluster-z:\n        ready: \"True\"\n        statusMessage: Available\n        lastCheckedAt: \"2026-11-25T10:00:00Z\"\nmetadata:\n  owner: platform\n"},
		{"record matching the kept entry falls back to the bare layout",
			"cluster-z:\n  - claimRef: team/db\n    statusMessage: old\n",
			"cluster-z:\n  - name: cache\n    namespace: team\n    claimRef: team/cache\n    statusMessage: Creating\n    lastCheckedAt: \"2026-11-25T10:00:00Z\"\n  - name: db\n    namespace: team\n    claimRef: team/db\n    statusMessage: Available\n    lastCheckedAt: \"2026-11-25T10:00:00Z\"\n"},
	}
	for _, tt := range tests {
		var ex []byte
		if tt.example != "" {
			ex = []byte(tt.example)
		}
		out, rep, err := NewFile(ex, "cluster-z", recs)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if string(out) != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, out, tt.want)
		}
		if len(rep.Missing) != 2 || !rep.Missing[0].Added {
			t.Errorf("%s: report %+v", tt.name, rep)
		}
	}
}

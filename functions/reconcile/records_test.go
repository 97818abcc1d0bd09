package reconcile

import (
	"context"
	"fmt"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// TestReadRecordsSizedUpFront: every record of every cluster, in cluster
// then key order, in a slice allocated once at the clusters' counts (a
// grown slice would leave spare capacity: memory a large fleet pays for).
func TestReadRecordsSizedUpFront(t *testing.T) {
	e := newEnv(t, 0)
	var recs []status.Record
	for _, c := range []string{"cluster-b", "cluster-a", "cluster-c"} {
		for i := range 37 {
			recs = append(recs, status.Record{Cluster: c, ClaimRef: fmt.Sprintf("team/claim-%02d", i), StatusMessage: "ok", Ready: "True"})
		}
	}
	e.putRecords(1, recs...)
	got, err := e.fn.readRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 111 || cap(got) != 111 {
		t.Fatalf("len %d cap %d, want 111 and 111", len(got), cap(got))
	}
	for i, r := range got {
		want := fmt.Sprintf("cluster-%c team/claim-%02d", 'a'+i/37, i%37)
		if r.Cluster+" "+r.ClaimRef != want {
			t.Fatalf("record %d is %s %s, want %s", i, r.Cluster, r.ClaimRef, want)
		}
	}
}

package watch

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	discoveryfake "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/stuttgart-things/machinery-status-collector/agent/claim"
)

var (
	pgGVR    = schema.GroupVersionResource{Group: "database.example.org", Version: "v1alpha1", Resource: "postgresqls"}
	bucketGV = schema.GroupVersionResource{Group: "storage.example.org", Version: "v1", Resource: "buckets"}
	otherGVR = schema.GroupVersionResource{Group: "other.example.org", Version: "v1", Resource: "widgets"}
)

// recorder is a Handler that remembers events.
type recorder struct {
	mu      sync.Mutex
	changed map[claim.Key]int
	deleted map[claim.Key]*claim.Claim
}

func newRecorder() *recorder {
	return &recorder{changed: map[claim.Key]int{}, deleted: map[claim.Key]*claim.Claim{}}
}

func (r *recorder) Changed(k claim.Key) {
	r.mu.Lock()
	r.changed[k]++
	r.mu.Unlock()
}

func (r *recorder) Deleted(k claim.Key, last *claim.Claim) {
	r.mu.Lock()
	r.deleted[k] = last
	r.mu.Unlock()
}

func (r *recorder) counts(k claim.Key) (int, *claim.Claim) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed[k], r.deleted[k]
}

func pg(ns, name, ready string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "database.example.org/v1alpha1", "kind": "PostgreSQL",
		"metadata": map[string]any{"namespace": ns, "name": name, "uid": name + "-uid"},
		"status": map[string]any{"conditions": []any{
			map[string]any{"type": "Ready", "status": ready, "reason": "Creating"},
		}},
	}}
	return u
}

func fakeClient(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		pgGVR: "PostgreSQLList", bucketGV: "BucketList", otherGVR: "WidgetList",
	}, objs...)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func run(t *testing.T, o Options) *Watcher {
	t.Helper()
	o.Logger = quiet()
	w := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // poll interval
	}
}

func TestSingleResourceEvents(t *testing.T) {
	client := fakeClient(pg("team-a", "db1", "False"), pg("team-b", "db2", "True"))
	rec := newRecorder()
	w := run(t, Options{Client: client, Resource: &pgGVR, Handler: rec})
	eventually(t, "synced", w.Synced)

	k1 := claim.Key{Resource: "postgresqls.database.example.org", Namespace: "team-a", Name: "db1"}
	if n, _ := rec.counts(k1); n != 1 {
		t.Fatalf("initial add events for db1: %d", n)
	}
	c, ok := w.Get(k1)
	if !ok || c.Ready.Status != "False" || c.Ready.Reason != "Creating" {
		t.Fatalf("cached claim %+v, %v", c, ok)
	}
	if w.Len() != 2 || len(w.Keys()) != 2 {
		t.Fatalf("Len %d Keys %v", w.Len(), w.Keys())
	}

	ri := client.Resource(pgGVR).Namespace("team-a")
	ctx := context.Background()

	// Label-only update: the informer sees it, the handler must not.
	u := pg("team-a", "db1", "False")
	u.SetLabels(map[string]string{"touched": "yes"})
	if _, err := ri.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A status change on another claim serves as a barrier: events are
	// delivered in order, so once it arrived the label update was seen.
	if _, err := client.Resource(pgGVR).Namespace("team-b").Update(ctx, pg("team-b", "db2", "False"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	k2 := claim.Key{Resource: k1.Resource, Namespace: "team-b", Name: "db2"}
	eventually(t, "db2 status change", func() bool { n, _ := rec.counts(k2); return n == 2 })
	if n, _ := rec.counts(k1); n != 1 {
		t.Fatalf("label-only update produced an event (%d)", n)
	}

	// Status change.
	if _, err := ri.Update(ctx, pg("team-a", "db1", "True"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "db1 status change", func() bool { n, _ := rec.counts(k1); return n == 2 })

	// Delete carries the last state.
	if err := ri.Delete(ctx, "db1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "db1 deleted", func() bool { _, d := rec.counts(k1); return d != nil })
	if _, d := rec.counts(k1); d.Ready.Status != "True" || d.UID != "db1-uid" {
		t.Fatalf("tombstone %+v", d)
	}
	if _, ok := w.Get(k1); ok {
		t.Fatal("deleted claim still cached")
	}
}

func TestTombstoneOfUntransformedObject(t *testing.T) {
	rec := newRecorder()
	h := handler{gr: pgGVR.GroupResource(), h: rec, log: quiet()}
	u := pg("ns", "gone", "True")
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/gone", Obj: u})
	k := claim.Key{Resource: "postgresqls.database.example.org", Namespace: "ns", Name: "gone"}
	if _, d := rec.counts(k); d == nil || d.Ready.Status != "True" {
		t.Fatalf("tombstone not reported: %+v", d)
	}
}

// discoveryStub serves a resource list that tests can swap while the
// watcher polls it.
type discoveryStub struct {
	*discoveryfake.FakeDiscovery
	mu    sync.Mutex
	lists []*metav1.APIResourceList
}

func (d *discoveryStub) set(lists ...*metav1.APIResourceList) {
	d.mu.Lock()
	d.lists = lists
	d.mu.Unlock()
}

func (d *discoveryStub) snapshot() *discoveryfake.FakeDiscovery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{Resources: d.lists}}
}

func (d *discoveryStub) ServerGroups() (*metav1.APIGroupList, error) {
	return d.snapshot().ServerGroups()
}

func (d *discoveryStub) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	return d.snapshot().ServerResourcesForGroupVersion(gv)
}

var _ discovery.DiscoveryInterface = &discoveryStub{}

func resList(gv string, res ...metav1.APIResource) *metav1.APIResourceList {
	return &metav1.APIResourceList{GroupVersion: gv, APIResources: res}
}

func apiRes(name, kind string, namespaced bool, categories ...string) metav1.APIResource {
	return metav1.APIResource{Name: name, Kind: kind, Namespaced: namespaced, Categories: categories,
		Verbs: metav1.Verbs{"get", "list", "watch"}}
}

func TestDiscoveryStartsAndStopsInformers(t *testing.T) {
	pgList := resList("database.example.org/v1alpha1",
		apiRes("postgresqls", "PostgreSQL", true, "claim", "crossplane"),
		apiRes("postgresqls/status", "PostgreSQL", true, "claim"))
	bucketList := resList("storage.example.org/v1", apiRes("buckets", "Bucket", true, "claim"))
	otherList := resList("other.example.org/v1",
		apiRes("widgets", "Widget", true, "composite"),
		apiRes("clusterthings", "ClusterThing", false, "claim"))
	disc := &discoveryStub{FakeDiscovery: &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{}}}
	disc.set(pgList, bucketList, otherList)

	rec := newRecorder()
	w := run(t, Options{Client: fakeClient(pg("team-a", "db1", "True")), Discovery: disc,
		DiscoveryInterval: 20 * time.Millisecond, Handler: rec})
	eventually(t, "two claim informers", func() bool { return len(w.Resources()) == 2 && w.Synced() })
	if got := w.Resources(); got[0] != pgGVR || got[1] != bucketGV {
		t.Fatalf("resources %v", got)
	}
	k := claim.Key{Resource: "postgresqls.database.example.org", Namespace: "team-a", Name: "db1"}
	if _, ok := w.Get(k); !ok {
		t.Fatal("claim not cached")
	}

	disc.set(bucketList, otherList) // CRD deleted
	eventually(t, "postgresqls informer stopped", func() bool { return len(w.Resources()) == 1 })
	if _, ok := w.Get(k); ok {
		t.Fatal("claim of a stopped informer still served")
	}
	if _, d := rec.counts(k); d != nil {
		t.Fatal("stopping an informer reported its claims deleted")
	}

	disc.set(pgList, bucketList, otherList) // CRD back
	eventually(t, "postgresqls informer restarted", func() bool { _, ok := w.Get(k); return ok && len(w.Resources()) == 2 })
	if n, _ := rec.counts(k); n != 2 {
		t.Fatalf("add events after restart: %d, want 2", n)
	}
}

func TestSyncedWaitsForDiscovery(t *testing.T) {
	w := New(Options{Discovery: &discoveryStub{FakeDiscovery: &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{}}}})
	if w.Synced() {
		t.Fatal("synced before discovery ran")
	}
}

func TestClaimResourcesGroupFilter(t *testing.T) {
	lists := []*metav1.APIResourceList{
		resList("database.example.org/v1alpha1", apiRes("postgresqls", "PostgreSQL", true, "claim")),
		resList("storage.example.org/v1", apiRes("buckets", "Bucket", true, "claim")),
	}
	got := claimResources(lists, "storage.example.org")
	if len(got) != 1 || got["buckets.storage.example.org"] != bucketGV {
		t.Fatalf("got %v", got)
	}
}

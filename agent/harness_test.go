package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/stuttgart-things/machinery-status-collector/agent"
	"github.com/stuttgart-things/machinery-status-collector/agent/config"
	"github.com/stuttgart-things/machinery-status-collector/functions/ingest"
	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// The agent authenticates to the API server as this user, with exactly
// the ClusterRole of agent/rbac.yaml bound to it.
const (
	agentUser  = "machinery-status-agent"
	agentToken = "agent-kube-token"
	// collectorToken is what the ingest accepts, per test cluster name.
	collectorToken = "collector-token-0123456789"
)

var (
	pgGVR     = schema.GroupVersionResource{Group: "database.example.org", Version: "v1alpha1", Resource: "postgresqls"}
	bucketGVR = schema.GroupVersionResource{Group: "storage.example.org", Version: "v1", Resource: "buckets"}
	widgetGVR = schema.GroupVersionResource{Group: "other.example.org", Version: "v1", Resource: "widgets"}
	nsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

func TestMain(m *testing.M) {
	kubetest.Main(m, kubetest.Options{Users: []kubetest.User{{Name: agentUser, Token: agentToken}}})
}

var crds = []*unstructured.Unstructured{
	kubetest.CRD(pgGVR, "PostgreSQL", "claim", "crossplane"),
	kubetest.CRD(bucketGVR, "Bucket", "claim"),
	kubetest.CRD(widgetGVR, "Widget", "composite"), // not a claim: never watched
}

var setupOnce sync.Once

// env is one test's world: the shared API server, a private Redis with a
// real ingest handler in front, and a namespace of its own.
type env struct {
	t       testing.TB
	kube    *kubetest.Cluster
	admin   dynamic.Interface
	redis   *redistest.Server
	store   *store.Store
	front   *front
	url     string
	ns      string
	cluster string
}

var nsSeq atomic.Int64

func newEnv(t testing.TB) *env {
	t.Helper()
	kube := kubetest.Shared(t)
	admin := dynamic.NewForConfigOrDie(kube.RESTConfig())
	setupOnce.Do(func() { installCluster(t, kube, admin) })
	for _, c := range crds {
		ensureCRD(t, kube, admin, c)
	}

	r := redistest.Start(t)
	st := store.New(r.Client(), "")
	n := nsSeq.Add(1)
	e := &env{t: t, kube: kube, admin: admin, redis: r, store: st,
		ns: fmt.Sprintf("e2e-%d", n), cluster: fmt.Sprintf("cluster-%d", n)}
	tokens, err := ingest.ParseTokens([]byte(e.cluster + "=" + collectorToken))
	if err != nil {
		t.Fatal(err)
	}
	fn := ingest.New(ingest.Options{Store: st, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.front = &front{next: fn}
	srv := httptest.NewServer(e.front)
	t.Cleanup(srv.Close)
	e.url = srv.URL

	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": e.ns}}}
	if _, err := admin.Resource(nsGVR).Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	// No namespace controller runs, so namespaces are never deleted;
	// remove the claims so later discovery-mode agents start light.
	own := e.ns // benchmarks repoint e.ns at a shared namespace: keep that one
	t.Cleanup(func() {
		for _, gvr := range []schema.GroupVersionResource{pgGVR, bucketGVR} {
			_ = admin.Resource(gvr).Namespace(own).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{})
		}
	})
	return e
}

// installCluster binds agent/rbac.yaml's ClusterRole to the agent user.
func installCluster(t testing.TB, kube *kubetest.Cluster, admin dynamic.Interface) {
	t.Helper()
	raw, err := os.ReadFile("rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	found := false
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("rbac.yaml: %v", err)
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() != "ClusterRole" {
			continue
		}
		found = true
		role := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
		if _, err := admin.Resource(role).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create ClusterRole from rbac.yaml: %v", err)
		}
		binding := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
			"metadata": map[string]any{"name": "e2e-agent"},
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": u.GetName()},
			"subjects": []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": agentUser}},
		}}
		rb := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
		if _, err := admin.Resource(rb).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatalf("bind ClusterRole: %v", err)
		}
	}
	if !found {
		t.Fatal("rbac.yaml has no ClusterRole")
	}
}

// ensureCRD creates c unless present and waits until the agent user's
// discovery serves it.
func ensureCRD(t testing.TB, kube *kubetest.Cluster, admin dynamic.Interface, c *unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	_, err := admin.Resource(kubetest.CRDResource).Create(ctx, c.DeepCopy(), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create CRD %s: %v", c.GetName(), err)
	}
	group, _, _ := unstructured.NestedString(c.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(c.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(c.Object, "spec", "versions")
	gv := group + "/" + versions[0].(map[string]any)["name"].(string)
	dc := discovery.NewDiscoveryClientForConfigOrDie(kube.RESTConfigFor(agentToken))
	eventually(t, 30*time.Second, "CRD "+c.GetName()+" served", func() bool {
		l, err := dc.ServerResourcesForGroupVersion(gv)
		if err != nil {
			return false
		}
		for _, r := range l.APIResources {
			if r.Name == plural {
				return true
			}
		}
		return false
	})
}

// front counts the batch requests reaching the collector and can make it
// unreachable (connections dropped), like a collector that is down.
type front struct {
	next     http.Handler
	requests atomic.Int64
	bytes    atomic.Int64
	down     atomic.Bool
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/v1/statuses" {
		f.requests.Add(1)
		f.bytes.Add(r.ContentLength)
	}
	if f.down.Load() {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	f.next.ServeHTTP(w, r)
}

// running is a started agent.
type running struct {
	*agent.Agent
	log  *servertest.Buffer
	stop func() // stops the agent and waits for it; idempotent
}

// startAgent runs an agent configured from env (merged over this test's
// defaults) until the test ends.
func (e *env) startAgent(vars map[string]string, opts agent.Options) *running {
	e.t.Helper()
	all := map[string]string{
		"CLUSTER_NAME":         e.cluster,
		"COLLECTOR_URL":        e.url,
		"COLLECTOR_TOKEN":      collectorToken,
		"CLAIM_NAMESPACE":      e.ns,
		"AGENT_FLUSH_INTERVAL": "200ms",
		"AGENT_MAX_BACKOFF":    "2s",
	}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return all[k] })
	if err != nil {
		e.t.Fatal(err)
	}
	logs := &servertest.Buffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.BackoffBase == 0 {
		opts.BackoffBase = 50 * time.Millisecond
	}
	a, err := agent.New(cfg, e.kube.RESTConfigFor(agentToken), opts)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			// MSC_E2E_LOGS=1 shows the log of passing tests too.
			if e.t.Failed() || os.Getenv("MSC_E2E_LOGS") != "" {
				e.t.Logf("agent log tail:\n%s", tail(logs.String(), 6000))
			}
		})
	}
	e.t.Cleanup(stop)
	return &running{Agent: a, log: logs, stop: stop}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// records returns what the collector stored for this test's cluster, by
// claimRef#kind.
func (e *env) records() map[string]status.Record {
	e.t.Helper()
	recs, err := e.store.ClusterRecords(context.Background(), e.cluster)
	if err != nil {
		e.t.Fatalf("read Redis: %v", err)
	}
	m := make(map[string]status.Record, len(recs))
	for _, r := range recs {
		m[r.Key()] = r
	}
	return m
}

func key(ns, name, kind string) string { return ns + "/" + name + "#" + kind }

const (
	pgKind     = "PostgreSQL.database.example.org"
	bucketKind = "Bucket.storage.example.org"
)

// claimObj is a claim without status (the API server ignores status on
// create when the status subresource is on).
func claimObj(gvr schema.GroupVersionResource, kind, ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": gvr.GroupVersion().String(), "kind": kind,
		"metadata": map[string]any{"namespace": ns, "name": name},
		"spec":     map[string]any{"size": "small"},
	}}
}

// createClaims creates n claims name-0..n-1 with 8 concurrent writers.
func (e *env) createClaims(gvr schema.GroupVersionResource, kind, prefix string, n int) {
	e.t.Helper()
	createClaims(e.t, e.admin, gvr, kind, e.ns, prefix, n)
}

func createClaims(t testing.TB, admin dynamic.Interface, gvr schema.GroupVersionResource, kind, ns, prefix string, n int) {
	t.Helper()
	ri := admin.Resource(gvr).Namespace(ns)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := atomic.Int64{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if _, err := ri.Create(context.Background(), claimObj(gvr, kind, ns, fmt.Sprintf("%s-%d", prefix, i)), metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("create claims: %v", err)
	}
}

// setReady writes the claim's Ready and Synced conditions through the
// status subresource, as Crossplane does.
func (e *env) setReady(gvr schema.GroupVersionResource, name, ready, reason, msg string) {
	e.t.Helper()
	setReady(e.t, e.admin, gvr, e.ns, name, ready, reason, msg)
}

func setReady(t testing.TB, admin dynamic.Interface, gvr schema.GroupVersionResource, ns, name, ready, reason, msg string) {
	t.Helper()
	patch := fmt.Sprintf(`{"status":{"conditions":[`+
		`{"type":"Ready","status":%q,"reason":%q,"message":%q,"lastTransitionTime":"2026-01-01T00:00:00Z"},`+
		`{"type":"Synced","status":"True","reason":"ReconcileSuccess","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`,
		ready, reason, msg)
	if _, err := admin.Resource(gvr).Namespace(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("set status of %s: %v", name, err)
	}
}

// eventually polls cond every 20 ms until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not synchronisation
	}
}

// settled waits until the agent has synced and nothing is queued or in
// flight: every claim it knows has been acknowledged.
func settled(t testing.TB, a *running, d time.Duration) {
	t.Helper()
	eventually(t, d, "agent settled", func() bool {
		return a.Ready() == nil && a.Controller.QueueLen() == 0 && a.Controller.InFlight() == 0
	})
}

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/stuttgart-things/machinery-status-collector/agent"
	"github.com/stuttgart-things/machinery-status-collector/agent/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
)

// The agent reads claims as this user, with exactly agent/rbac.yaml's
// ClusterRole bound, as in production.
const agentUser = "machinery-status-agent"

var (
	pgGVR     = schema.GroupVersionResource{Group: "database.example.org", Version: "v1alpha1", Resource: "postgresqls"}
	bucketGVR = schema.GroupVersionResource{Group: "storage.example.org", Version: "v1", Resource: "buckets"}
	nsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	roleGVR   = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	bindGVR   = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
)

// claimKinds are the two claim CRDs; claims alternate between them.
var claimKinds = []struct {
	gvr        schema.GroupVersionResource
	kind, name string // name prefix of its claims
}{
	{pgGVR, "PostgreSQL", "db"},
	{bucketGVR, "Bucket", "bucket"},
}

// cluster is one simulated cluster: a namespace of the shared API server,
// watched by its own agent with its own ingest token.
type cluster struct {
	name, ns, token string
	claims          []claimID
}

// claimID names one claim of a cluster.
type claimID struct {
	gvr  schema.GroupVersionResource
	name string
}

// secret is a random token of 32 hex digits: unique enough that finding
// it in a log can only mean it leaked.
func secret(t *testing.T, prefix string) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// newClusters spreads n claims over count clusters, alternating kinds.
func newClusters(t *testing.T, count, n int) []*cluster {
	cs := make([]*cluster, count)
	for i := range cs {
		id := string(rune('a' + i))
		cs[i] = &cluster{name: "cluster-" + id, ns: "fleet-" + id, token: secret(t, "ingest-"+id+"-")}
	}
	for i := range n {
		c := cs[i%count]
		k := claimKinds[len(c.claims)%len(claimKinds)]
		c.claims = append(c.claims, claimID{k.gvr, fmt.Sprintf("%s-%d", k.name, len(c.claims))})
	}
	return cs
}

// installAPI creates the claim CRDs, agent/rbac.yaml's ClusterRole bound
// to the agent user, and the clusters' namespaces and claims; it returns
// once the agent user's discovery serves the CRDs.
func installAPI(t *testing.T, kube *kubetest.Cluster, admin dynamic.Interface, agentToken string, cs []*cluster) {
	t.Helper()
	ctx := context.Background()
	for _, k := range claimKinds {
		if _, err := admin.Resource(kubetest.CRDResource).Create(ctx, kubetest.CRD(k.gvr, k.kind, "claim"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create CRD %s: %v", k.gvr.Resource, err)
		}
	}
	bindAgentRole(t, admin)
	dc := discovery.NewDiscoveryClientForConfigOrDie(kube.RESTConfigFor(agentToken))
	for _, k := range claimKinds {
		eventually(t, 60*time.Second, "CRD "+k.gvr.Resource+" served", func() bool {
			l, err := dc.ServerResourcesForGroupVersion(k.gvr.GroupVersion().String())
			if err != nil {
				return false
			}
			for _, r := range l.APIResources {
				if r.Name == k.gvr.Resource {
					return true
				}
			}
			return false
		})
	}
	for _, c := range cs {
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": c.ns}}}
		if _, err := admin.Resource(nsGVR).Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create namespace %s: %v", c.ns, err)
		}
	}
	createClaims(t, admin, cs)
}

// bindAgentRole applies agent/rbac.yaml's ClusterRole verbatim and binds
// it to the agent user, so the agents run with the shipped permissions.
func bindAgentRole(t *testing.T, admin dynamic.Interface) {
	t.Helper()
	raw, err := os.ReadFile("../../agent/rbac.yaml")
	if err != nil {
		t.Fatalf("read agent RBAC: %v", err)
	}
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("agent/rbac.yaml: %v", err)
		}
		role := &unstructured.Unstructured{Object: obj}
		if role.GetKind() != "ClusterRole" {
			continue
		}
		if _, err := admin.Resource(roleGVR).Create(context.Background(), role, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create ClusterRole: %v", err)
		}
		binding := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
			"metadata": map[string]any{"name": "e2e-agent"},
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role.GetName()},
			"subjects": []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": agentUser}},
		}}
		if _, err := admin.Resource(bindGVR).Create(context.Background(), binding, metav1.CreateOptions{}); err != nil {
			t.Fatalf("bind ClusterRole: %v", err)
		}
		return
	}
	t.Fatal("agent/rbac.yaml has no ClusterRole")
}

// createClaims creates every cluster's claims (without status: the API
// server drops status on create) with 8 concurrent writers.
func createClaims(t *testing.T, admin dynamic.Interface, cs []*cluster) {
	t.Helper()
	type job struct {
		ns string
		id claimID
	}
	jobs := make(chan job)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := createClaim(context.Background(), admin, j.ns, j.id); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for _, c := range cs {
		for _, id := range c.claims {
			jobs <- job{c.ns, id}
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// createClaim creates one claim without status.
func createClaim(ctx context.Context, admin dynamic.Interface, ns string, id claimID) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": id.gvr.GroupVersion().String(), "kind": kindOf(id.gvr),
		"metadata": map[string]any{"namespace": ns, "name": id.name},
		"spec":     map[string]any{"size": "small"},
	}}
	if _, err := admin.Resource(id.gvr).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create %s/%s: %w", ns, id.name, err)
	}
	return nil
}

func kindOf(gvr schema.GroupVersionResource) string {
	for _, k := range claimKinds {
		if k.gvr == gvr {
			return k.kind
		}
	}
	return ""
}

// setStatus writes a claim's Ready and Synced conditions through the
// status subresource, as Crossplane does.
func setStatus(ctx context.Context, admin dynamic.Interface, ns string, id claimID, ready, msg string) error {
	reason := "Available"
	if ready != "True" {
		reason = "Creating"
	}
	patch := fmt.Sprintf(`{"status":{"conditions":[`+
		`{"type":"Ready","status":%q,"reason":%q,"message":%q,"lastTransitionTime":"2026-01-01T00:00:00Z"},`+
		`{"type":"Synced","status":"True","reason":"ReconcileSuccess","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`,
		ready, reason, msg)
	_, err := admin.Resource(id.gvr).Namespace(ns).Patch(ctx, id.name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("set status of %s/%s: %w", ns, id.name, err)
	}
	return nil
}

// expected is what the registry must say about one claim.
type expected struct{ msg, ready string }

// truth reads every claim's Ready condition from the API server and
// derives what the registry must hold for it, the way the agent does: the
// condition's message, or "Ready=<status>" when empty; Unknown without one.
// Keys are cluster, then claimRef.
func truth(t *testing.T, admin dynamic.Interface, cs []*cluster) map[string]map[string]expected {
	t.Helper()
	out := map[string]map[string]expected{}
	for _, c := range cs {
		m := map[string]expected{}
		for _, k := range claimKinds {
			list, err := admin.Resource(k.gvr).Namespace(c.ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list %s in %s: %v", k.gvr.Resource, c.ns, err)
			}
			for _, item := range list.Items {
				e := expected{ready: "Unknown"}
				conds, _, _ := unstructured.NestedSlice(item.Object, "status", "conditions")
				for _, raw := range conds {
					cond, _ := raw.(map[string]any)
					if cond["type"] == "Ready" {
						e.ready, _ = cond["status"].(string)
						e.msg, _ = cond["message"].(string)
					}
				}
				if e.msg == "" {
					e.msg = "Ready=" + e.ready
				}
				m[c.ns+"/"+item.GetName()] = e
			}
		}
		if len(m) != len(c.claims) {
			t.Fatalf("%s: %d claims on the API server, want %d", c.ns, len(m), len(c.claims))
		}
		out[c.name] = m
	}
	return out
}

// runningAgent is an in-process agent; stop ends it and waits.
type runningAgent struct {
	*agent.Agent
	stop func()
}

// startAgent runs an agent for cluster c in this process (so -race covers
// it) with its own log stream, until stop or the end of the test.
func startAgent(t *testing.T, kube *kubetest.Cluster, agentToken string, l *logs, stream string, vars map[string]string) *runningAgent {
	t.Helper()
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("agent config: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(l.stream(stream), &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := agent.New(cfg, kube.RESTConfigFor(agentToken), agent.Options{Logger: log, BackoffBase: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("agent: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return &runningAgent{Agent: a, stop: stop}
}

// agentVars is the environment of cluster c's agent.
func agentVars(c *cluster, collector, token string) map[string]string {
	return map[string]string{
		"CLUSTER_NAME":    c.name,
		"COLLECTOR_URL":   collector,
		"COLLECTOR_TOKEN": token,
		"CLAIM_NAMESPACE": c.ns,
		// Short periods so the test sees retries and a Redis heal quickly.
		"AGENT_FLUSH_INTERVAL": "200ms",
		"AGENT_RESYNC_PERIOD":  resyncPeriod.String(),
		"AGENT_MAX_BACKOFF":    "2s",
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
}

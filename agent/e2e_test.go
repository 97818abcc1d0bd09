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
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/stuttgart-things/machinery-status-collector/agent"
	"github.com/stuttgart-things/machinery-status-collector/agent/config"
	"github.com/stuttgart-things/machinery-status-collector/agent/metrics"
	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
)

// The end-to-end tests run the agent against the real API server of
// shared/kubetest (RBAC from rbac.yaml), the real ingest handler and a real
// Redis. They share one API server and run one at a time.

func TestE2EInitialSyncIsBatched(t *testing.T) {
	e := newEnv(t)
	e.createClaims(pgGVR, "PostgreSQL", "db", 1000)
	e.createClaims(bucketGVR, "Bucket", "bucket", 1000)

	start := time.Now()
	a := e.startAgent(map[string]string{"AGENT_BATCH_SIZE": "500"}, agent.Options{})
	eventually(t, 60*time.Second, "2000 records in Redis", func() bool { return len(e.records()) == 2000 })
	settled(t, a, 10*time.Second)
	took := time.Since(start)

	// ceil(2000/500) + 5
	if n := e.front.requests.Load(); n > 9 {
		t.Fatalf("initial sync of 2000 claims took %d requests, want at most 9", n)
	}
	recs := e.records()
	if r := recs[key(e.ns, "db-7", pgKind)]; r.StatusMessage != "Ready=Unknown" || r.Ready != "Unknown" || r.UID == "" || r.Generation != 1 {
		t.Fatalf("record of a fresh claim: %+v", r)
	}
	if _, ok := recs[key(e.ns, "bucket-999", bucketKind)]; !ok {
		t.Fatal("bucket claims missing")
	}
	t.Logf("initial sync of 2000 claims: %d requests, %d bytes, %s", e.front.requests.Load(), e.front.bytes.Load(), took.Round(time.Millisecond))

	// Probes: ready once synced and sending works.
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
		}
		if p == "/metrics" && !strings.Contains(string(body), "machinery_agent_claims_watched 2000") {
			t.Fatalf("metrics lack claims watched:\n%s", body)
		}
	}
}

func TestE2EStatusChangeFastAndLabelChangeFree(t *testing.T) {
	e := newEnv(t)
	e.createClaims(pgGVR, "PostgreSQL", "db", 3)
	// Default flush interval (1s): the latency bound holds with production settings.
	a := e.startAgent(map[string]string{"AGENT_FLUSH_INTERVAL": "1s"}, agent.Options{})
	eventually(t, 20*time.Second, "initial sync", func() bool { return len(e.records()) == 3 })
	settled(t, a, 10*time.Second)

	// A status change reaches Redis within 2 s.
	start := time.Now()
	e.setReady(pgGVR, "db-0", "False", "Creating", "waiting for the instance")
	eventually(t, 2*time.Second, "status change in Redis", func() bool {
		r := e.records()[key(e.ns, "db-0", pgKind)]
		return r.StatusMessage == "waiting for the instance" && r.Ready == "False" && r.Reason == "Creating" && r.Synced == "True"
	})
	t.Logf("status change reached Redis after %s", time.Since(start).Round(time.Millisecond))
	settled(t, a, 5*time.Second)

	// A label-only update sends nothing. Events of one resource arrive in
	// order, so a later status change on another claim is a barrier: once
	// it is in Redis, the label update was seen (and dropped).
	before := e.front.requests.Load()
	unchangedBefore := a.Metrics.EventCount(metrics.EventUnchanged)
	patch := []byte(`{"metadata":{"labels":{"team":"payments"},"annotations":{"note":"relabelled"}}}`)
	if _, err := e.admin.Resource(pgGVR).Namespace(e.ns).Patch(context.Background(), "db-1", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.setReady(pgGVR, "db-2", "True", "Available", "")
	eventually(t, 5*time.Second, "barrier status in Redis", func() bool {
		return e.records()[key(e.ns, "db-2", pgKind)].StatusMessage == "Ready=True"
	})
	settled(t, a, 5*time.Second)
	if got := e.front.requests.Load() - before; got != 1 {
		t.Fatalf("label update + status change took %d requests, want 1 (the status change only)", got)
	}
	if got := a.Metrics.EventCount(metrics.EventUnchanged) - unchangedBefore; got != 1 {
		t.Fatalf("label update not seen as unchanged: %d", got)
	}
}

// outage is how long the collector stays down in TestE2ECollectorDown:
// 5 s by default (several retries with backoff already), the 30 s the
// issue asked for with MSC_TEST_LONG=1 (make test-long), MSC_E2E_OUTAGE
// to override both.
func outage() time.Duration {
	if v := os.Getenv("MSC_E2E_OUTAGE"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	if os.Getenv("MSC_TEST_LONG") == "1" {
		return 30 * time.Second
	}
	return 5 * time.Second
}

func TestE2ECollectorDownLatestStatusWins(t *testing.T) {
	e := newEnv(t)
	const n = 200
	e.createClaims(pgGVR, "PostgreSQL", "db", n)
	a := e.startAgent(map[string]string{"AGENT_BATCH_SIZE": "100"}, agent.Options{})
	eventually(t, 30*time.Second, "initial sync", func() bool { return len(e.records()) == n })
	settled(t, a, 10*time.Second)

	down := outage()
	e.front.down.Store(true)
	start := time.Now()
	before := e.front.requests.Load()
	// Two rounds of changes while the collector is down; the second must win.
	for round := 1; round <= 2; round++ {
		for i := range n {
			e.setReady(pgGVR, fmt.Sprintf("db-%d", i), "False", "Creating", fmt.Sprintf("round %d", round))
		}
	}
	eventually(t, down, "agent notices the outage", func() bool { return a.Ready() != nil })
	// Keep it down for the full outage; the agent keeps retrying meanwhile.
	for time.Since(start) < down {
		time.Sleep(100 * time.Millisecond) // the outage itself, not synchronisation
	}
	attempts := e.front.requests.Load() - before
	e.front.down.Store(false)
	t.Logf("collector down for %s; the agent tried %d times", down.Round(time.Millisecond), attempts)
	if attempts < 2 {
		t.Fatalf("agent made %d attempts during the outage, want retries", attempts)
	}

	eventually(t, 30*time.Second, "every claim's latest status in Redis", func() bool {
		recs := e.records()
		for i := range n {
			if recs[key(e.ns, fmt.Sprintf("db-%d", i), pgKind)].StatusMessage != "round 2" {
				return false
			}
		}
		return true
	})
	settled(t, a, 10*time.Second)
}

func TestE2ERedisWipedHealsOnResync(t *testing.T) {
	e := newEnv(t)
	e.createClaims(bucketGVR, "Bucket", "b", 100)
	a := e.startAgent(map[string]string{"AGENT_RESYNC_PERIOD": "2s"}, agent.Options{})
	eventually(t, 30*time.Second, "initial sync", func() bool { return len(e.records()) == 100 })

	e.redis.Flush()
	if len(e.records()) != 0 {
		t.Fatal("flush left records")
	}
	eventually(t, 15*time.Second, "resync restores Redis", func() bool { return len(e.records()) == 100 })
	settled(t, a, 10*time.Second)
}

func TestE2EClaimDeletedIsStoredAsDeleted(t *testing.T) {
	e := newEnv(t)
	e.createClaims(pgGVR, "PostgreSQL", "db", 2)
	e.setReady(pgGVR, "db-0", "True", "Available", "all good")
	// Single-resource mode, as the seed configured it.
	a := e.startAgent(map[string]string{"CLAIM_GROUP": pgGVR.Group, "CLAIM_VERSION": pgGVR.Version, "CLAIM_RESOURCE": pgGVR.Resource}, agent.Options{})
	eventually(t, 20*time.Second, "initial sync", func() bool { return len(e.records()) == 2 })
	if got := a.Watcher.Resources(); len(got) != 1 || got[0] != pgGVR {
		t.Fatalf("single-resource mode watches %v", got)
	}

	if err := e.admin.Resource(pgGVR).Namespace(e.ns).Delete(context.Background(), "db-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "deleted: true in Redis", func() bool {
		r := e.records()[key(e.ns, "db-0", pgKind)]
		return r.Deleted && r.StatusMessage == "all good"
	})
	if r := e.records()[key(e.ns, "db-1", pgKind)]; r.Deleted {
		t.Fatal("the other claim was marked deleted")
	}
}

func TestE2EDiscoveryFollowsCRDs(t *testing.T) {
	e := newEnv(t)
	e.createClaims(pgGVR, "PostgreSQL", "db", 2)
	e.createClaims(bucketGVR, "Bucket", "b", 2)
	createClaims(t, e.admin, widgetGVR, "Widget", e.ns, "w", 1) // outside the claim category: never sent

	a := e.startAgent(map[string]string{"AGENT_DISCOVERY_INTERVAL": "200ms"}, agent.Options{})
	eventually(t, 20*time.Second, "initial sync", func() bool { return len(e.records()) == 4 })
	if got := a.Watcher.Resources(); len(got) != 2 || got[0] != pgGVR || got[1] != bucketGVR {
		t.Fatalf("discovery mode watches %v, want postgresqls and buckets only", got)
	}

	// Delete the buckets CRD: its claims are deleted first (deleted: true
	// reaches Redis), then the informer stops.
	ctx := context.Background()
	if err := e.admin.Resource(kubetest.CRDResource).Delete(ctx, "buckets.storage.example.org", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "bucket informer stopped", func() bool { return len(a.Watcher.Resources()) == 1 })
	eventually(t, 10*time.Second, "bucket claims stored as deleted", func() bool {
		recs := e.records()
		return recs[key(e.ns, "b-0", bucketKind)].Deleted && recs[key(e.ns, "b-1", bucketKind)].Deleted
	})
	eventually(t, 30*time.Second, "CRD gone", func() bool {
		_, err := e.admin.Resource(kubetest.CRDResource).Get(ctx, "buckets.storage.example.org", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})

	// Recreate it: a new informer starts and new claims flow again.
	ensureCRD(t, e.kube, e.admin, crds[1])
	eventually(t, 10*time.Second, "bucket informer restarted", func() bool { return len(a.Watcher.Resources()) == 2 })
	e.createClaims(bucketGVR, "Bucket", "again", 1)
	eventually(t, 10*time.Second, "claim of the recreated CRD in Redis", func() bool {
		_, ok := e.records()[key(e.ns, "again-0", bucketKind)]
		return ok
	})
	if logs := a.log.String(); !strings.Contains(logs, "stopped watching claims") {
		t.Fatalf("informer stop not logged:\n%s", tail(logs, 3000))
	}
}

func TestE2EWrongTokenStoresNothing(t *testing.T) {
	for _, tc := range []struct {
		name, token, want string
	}{
		{"unknown token", "not-the-collector-token", "401"},
		{"token of another cluster", "", "403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			token := tc.token
			if token == "" {
				// Valid, but the ingest maps it to a different cluster.
				token = collectorToken
				e.cluster = e.cluster + "-other"
			}
			e.createClaims(pgGVR, "PostgreSQL", "db", 3)
			a := e.startAgent(map[string]string{"COLLECTOR_TOKEN": token, "AGENT_MAX_BACKOFF": "400ms"}, agent.Options{})
			eventually(t, 20*time.Second, "three refused attempts", func() bool { return e.front.requests.Load() >= 3 })
			logs := a.log.String()
			if !strings.Contains(logs, "collector refused the agent's credentials") || !strings.Contains(logs, "status="+tc.want) ||
				!strings.Contains(logs, "INGEST_TOKENS") {
				t.Fatalf("no clear auth error in the log:\n%s", tail(logs, 2000))
			}
			if strings.Contains(logs, token) {
				t.Fatal("token printed in the log")
			}
			if err := a.Ready(); err == nil {
				t.Fatal("ready while the collector refuses the token")
			}
			if n := len(e.records()); n != 0 {
				t.Fatalf("%d records stored with a refused token", n)
			}
			recs, err := e.store.AllRecords(context.Background())
			if err != nil || len(recs) != 0 {
				t.Fatalf("Redis holds %d records (%v)", len(recs), err)
			}
		})
	}
}

func TestE2EAgentNeedsNoCRDAccess(t *testing.T) {
	e := newEnv(t)
	agentClient := dynamic.NewForConfigOrDie(e.kube.RESTConfigFor(agentToken))
	ctx := context.Background()
	if _, err := agentClient.Resource(kubetest.CRDResource).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("agent identity may list CRDs (want Forbidden): %v", err)
	}
	if _, err := agentClient.Resource(pgGVR).Namespace(e.ns).Get(ctx, "x", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("agent identity may get claims (want Forbidden; list/watch suffice): %v", err)
	}
	if _, err := agentClient.Resource(widgetGVR).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("agent identity may list non-claims: %v", err)
	}
}

// TestE2EMain runs the program's own wiring: kubeconfig from KUBECONFIG,
// the probe server, the default HTTP client for the collector.
func TestE2EMain(t *testing.T) {
	e := newEnv(t)
	e.createClaims(bucketGVR, "Bucket", "b", 5)
	kubeconfig, err := e.kube.Kubeconfig(agentToken)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"CLUSTER_NAME": e.cluster, "COLLECTOR_URL": e.url, "COLLECTOR_TOKEN": collectorToken,
		"CLAIM_NAMESPACE": e.ns, "KUBECONFIG": kubeconfig, "AGENT_METRICS_ADDR": "127.0.0.1:0",
		"AGENT_FLUSH_INTERVAL": "100ms",
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &servertest.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Main(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil))) }()
	eventually(t, 20*time.Second, "claims in Redis", func() bool { return len(e.records()) == 5 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
	if l := logs.String(); !strings.Contains(l, "agent starting") || !strings.Contains(l, "agent stopped") || strings.Contains(l, collectorToken) {
		t.Fatalf("unexpected log:\n%s", l)
	}
}

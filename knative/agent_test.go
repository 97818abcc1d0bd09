package knative

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/stuttgart-things/machinery-status-collector/agent"
	agentconfig "github.com/stuttgart-things/machinery-status-collector/agent/config"
	"github.com/stuttgart-things/machinery-status-collector/functions/ingest"
	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// The agent runs against the API server as a token user bound, by the
// shipped ClusterRoleBinding (its subject swapped for the user), to the
// shipped ClusterRole, in both modes. It must deliver claim statuses to a
// real ingest + Redis; with one verb taken out of the role the API server
// must refuse it, so the role holds nothing the agent does not use.
type rbacCase struct {
	name      string
	discovery bool
	drop      string // verb removed from every rule; "" = the role as shipped
}

var rbacCases = []rbacCase{
	{name: "single-resource"},
	{name: "discovery", discovery: true},
	{name: "single-resource-without-list", drop: "list"},
	{name: "single-resource-without-watch", drop: "watch"},
	{name: "discovery-without-list", discovery: true, drop: "list"},
	{name: "discovery-without-watch", discovery: true, drop: "watch"},
}

func (c rbacCase) user() string  { return "agent-" + c.name }
func (c rbacCase) token() string { return "kube-token-" + c.name }

// rbacUsers are the API server's token users, one per case (the token
// file is read once at start).
func rbacUsers() []kubetest.User {
	var users []kubetest.User
	for _, c := range rbacCases {
		users = append(users, kubetest.User{Name: c.user(), Token: c.token()})
	}
	return users
}

// runSeq numbers the cases' runs.
var runSeq atomic.Int64

var (
	clusterRoleGVR = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	bindingGVR     = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
	sarGVR         = schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "subjectaccessreviews"}
)

// claimVersion is the version the test's claim CRDs serve: the agent's
// default CLAIM_VERSION, which the shipped config leaves unset.
const claimVersion = agentconfig.DefaultClaimVersion

// claimResources are the claim resources the role's rules name.
func claimResources(t testing.TB, role *unstructured.Unstructured) []schema.GroupVersionResource {
	t.Helper()
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	var out []schema.GroupVersionResource
	for _, r := range rules {
		m := r.(map[string]any)
		groups, _ := m["apiGroups"].([]any)
		resources, _ := m["resources"].([]any)
		for _, g := range groups {
			for _, res := range resources {
				out = append(out, schema.GroupVersionResource{Group: g.(string), Version: claimVersion, Resource: res.(string)})
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("the shipped ClusterRole names no claim resource")
	}
	return out
}

// claimKind makes up a kind for a plural resource ("buckets" -> "Bucket").
func claimKind(gvr schema.GroupVersionResource) string {
	s := strings.TrimSuffix(gvr.Resource, "s")
	return strings.ToUpper(s[:1]) + s[1:]
}

// TestAgentRoleIsTheAgentsOwn: the deployed role grants what the agent
// documents and its own end-to-end tests run with (agent/rbac.yaml).
func TestAgentRoleIsTheAgentsOwn(t *testing.T) {
	shipped := find(t, render(t, agentDir), "rbac.authorization.k8s.io/v1 ClusterRole machinery-status-agent")
	docs, err := readObjects(filepath.Join(repoRoot(t), "agent", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var theirs *unstructured.Unstructured
	for _, d := range docs {
		if d.GetKind() == "ClusterRole" {
			theirs = d
		}
	}
	if theirs == nil {
		t.Fatal("agent/rbac.yaml has no ClusterRole")
	}
	got, _ := json.Marshal(shipped.Object["rules"])
	want, _ := json.Marshal(theirs.Object["rules"])
	if !bytes.Equal(got, want) {
		t.Errorf("knative/agent/rbac.yaml rules differ from agent/rbac.yaml:\nknative %s\nagent   %s", got, want)
	}
}

func TestAgentWithShippedRBAC(t *testing.T) {
	api := sharedAPI(t)
	ctx := context.Background()
	objs := render(t, agentDir)
	role := find(t, objs, "rbac.authorization.k8s.io/v1 ClusterRole machinery-status-agent")
	binding := find(t, objs, "rbac.authorization.k8s.io/v1 ClusterRoleBinding machinery-status-agent")
	deploy := find(t, objs, "apps/v1 Deployment machinery-status-collector/machinery-status-agent")
	resources := claimResources(t, role)

	var crds []*unstructured.Unstructured
	for _, gvr := range resources {
		crds = append(crds, kubetest.CRD(gvr, claimKind(gvr), "claim"))
	}
	setupCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := kubetest.InstallCRDs(setupCtx, api.dyn, crds...); err != nil {
		t.Fatal(err)
	}
	// The role as shipped, created for real: the cases bind to it.
	if _, err := api.dyn.Resource(clusterRoleGVR).Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	for _, c := range rbacCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runRBACCase(t, api, c, role, binding, deploy, objs, resources)
		})
	}
}

func runRBACCase(t *testing.T, api *apiServer, c rbacCase, role, binding, deploy *unstructured.Unstructured,
	objs []*unstructured.Unstructured, resources []schema.GroupVersionResource) {
	ctx := context.Background()
	admin := api.dyn
	// Names unique per run, so -count=N reuses the shared API server.
	suffix := fmt.Sprintf("%s-%d", c.name, runSeq.Add(1))

	// The role: as shipped, or a copy with one verb less.
	roleName := role.GetName()
	if c.drop != "" {
		reduced := role.DeepCopy()
		roleName = "test-" + suffix
		reduced.SetName(roleName)
		rules, _, _ := unstructured.NestedSlice(reduced.Object, "rules")
		for _, r := range rules {
			m := r.(map[string]any)
			var verbs []any
			for _, v := range m["verbs"].([]any) {
				if v != c.drop {
					verbs = append(verbs, v)
				}
			}
			m["verbs"] = verbs
		}
		_ = unstructured.SetNestedSlice(reduced.Object, rules, "rules")
		if _, err := admin.Resource(clusterRoleGVR).Create(ctx, reduced, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The shipped binding, bound to this case's user instead of the
	// ServiceAccount (kubetest authenticates users by token).
	b := binding.DeepCopy()
	b.SetName("test-" + suffix)
	_ = unstructured.SetNestedField(b.Object, roleName, "roleRef", "name")
	_ = unstructured.SetNestedSlice(b.Object, []any{map[string]any{
		"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": c.user(),
	}}, "subjects")
	if _, err := admin.Resource(bindingGVR).Create(ctx, b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// RBAC reaches the authorizer through an informer; start the agent
	// only once the binding is in force, so a refusal is the role's doing.
	waitAllowed(t, api, c, resources)

	ns := "rbac-" + suffix
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	if _, err := admin.Resource(nsGVR).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Single-resource mode watches the first rule's resource; discovery
	// mode finds every claim resource, and each gets a claim.
	watched := resources[:1]
	if c.discovery {
		watched = resources
	}
	for _, gvr := range watched {
		claim := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": gvr.GroupVersion().String(), "kind": claimKind(gvr),
			"metadata": map[string]any{"namespace": ns, "name": "claim"},
			"spec":     map[string]any{"size": "small"},
		}}
		if _, err := admin.Resource(gvr).Namespace(ns).Create(ctx, claim, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// The collector: the real ingest handler over a real Redis, with the
	// token of the filled-in ingest-tokens Secret.
	r := redistest.Start(t)
	st := store.New(r.Client(), "")
	tokens, err := ingest.ParseTokens([]byte(filledSecrets["ingest-tokens"]["tokens"]))
	if err != nil {
		t.Fatal(err)
	}
	coll := &collector{next: ingest.New(ingest.Options{Store: st, Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), served: make(chan struct{}, 1)}
	srv := httptest.NewServer(coll)
	t.Cleanup(srv.Close)

	// The agent's environment as the Deployment sets it, pointed at the
	// test collector and made quick; the token comes from the mounted Secret.
	env, err := containerEnv(objs, filledSecrets, containers(deploy)[0], t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env["COLLECTOR_URL"] = srv.URL
	env["AGENT_FLUSH_INTERVAL"] = "100ms"
	env["AGENT_DISCOVERY_INTERVAL"] = "200ms"
	if !c.discovery {
		env["CLAIM_GROUP"] = resources[0].Group
		env["CLAIM_VERSION"] = resources[0].Version
		env["CLAIM_RESOURCE"] = resources[0].Resource
	}
	cfg, err := agentconfig.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &logSink{changed: make(chan struct{}, 1)}
	a, err := agent.New(cfg, api.kube.RESTConfigFor(c.token()), agent.Options{
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BackoffBase: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.Run(runCtx); close(done) }()
	t.Cleanup(func() {
		stop()
		<-done
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})

	const refused = "not allowed to list/watch claims"
	const timeout = 60 * time.Second
	if c.drop != "" {
		// The agent's own hint when the API server refuses it.
		waitFor(t, timeout, "the agent to be refused", logs.changed, func() bool { return strings.Contains(logs.String(), refused) })
		want := fmt.Sprintf("cannot %s resource", c.drop)
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("the agent was refused, but not for %q:\n%s", c.drop, logs.String())
		}
		if c.drop == "list" {
			// Without list no informer syncs: nothing is ever sent.
			if err := a.Ready(); err == nil {
				t.Fatal("agent ready without list permission")
			}
			if n := len(records(t, st, cfg.ClusterName)); n != 0 {
				t.Fatalf("%d records reached the collector without list permission", n)
			}
		}
		t.Logf("without %q: %s", c.drop, firstLine(logs.String(), refused))
		return
	}

	// Listed: every watched claim arrives.
	waitFor(t, timeout, "the claims in Redis", coll.served, func() bool {
		recs := records(t, st, cfg.ClusterName)
		for _, gvr := range watched {
			if _, ok := recs[ns+"/claim#"+claimKind(gvr)+"."+gvr.Group]; !ok {
				return false
			}
		}
		return true
	})
	// Watched: a status change arrives.
	gvr := watched[len(watched)-1]
	msg := "reported with the shipped role (" + c.name + ")"
	patch := fmt.Sprintf(`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Available","message":%q,"lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`, msg)
	if _, err := admin.Resource(gvr).Namespace(ns).Patch(ctx, "claim", types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	key := ns + "/claim#" + claimKind(gvr) + "." + gvr.Group
	waitFor(t, timeout, "the status change in Redis", coll.served, func() bool {
		return records(t, st, cfg.ClusterName)[key] == msg
	})
	if strings.Contains(logs.String(), refused) {
		t.Fatalf("the API server refused the agent with the shipped role:\n%s", logs.String())
	}
}

// waitAllowed polls SubjectAccessReviews until the case's user may do
// what its role grants on every claim resource.
func waitAllowed(t testing.TB, api *apiServer, c rbacCase, resources []schema.GroupVersionResource) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		for _, gvr := range resources {
			for _, verb := range []string{"list", "watch"} {
				if verb == c.drop {
					continue
				}
				sar := &unstructured.Unstructured{Object: map[string]any{
					"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
					"spec": map[string]any{"user": c.user(), "resourceAttributes": map[string]any{
						"group": gvr.Group, "resource": gvr.Resource, "verb": verb,
					}},
				}}
				res, err := api.dyn.Resource(sarGVR).Create(ctx, sar, metav1.CreateOptions{})
				if err != nil {
					return false, err
				}
				if ok, _, _ := unstructured.NestedBool(res.Object, "status", "allowed"); !ok {
					return false, nil
				}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("binding for %s not in force: %v", c.user(), err)
	}
}

// records returns the status message of each stored claim of cluster, by
// claimRef#kind.
func records(t testing.TB, st *store.Store, cluster string) map[string]string {
	t.Helper()
	recs, err := st.ClusterRecords(context.Background(), cluster)
	if err != nil {
		t.Fatalf("read Redis: %v", err)
	}
	out := map[string]string{}
	for _, r := range recs {
		out[r.Key()] = r.StatusMessage
	}
	return out
}

// waitFor re-checks cond each time signal fires (a batch was stored, a
// log line was written) until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, signal <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-signal:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// collector serves the ingest and signals after each batch it stored.
type collector struct {
	next   http.Handler
	served chan struct{}
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.next.ServeHTTP(w, r)
	select {
	case c.served <- struct{}{}:
	default: // a signal is already pending
	}
}

// logSink keeps the agent's log and signals every write.
type logSink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, err := l.buf.Write(p)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func firstLine(s, containing string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, containing) {
			return line
		}
	}
	return ""
}

package knative

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The kustomizations this package ships, relative to it.
const (
	overlayKnative = "overlays/knative"
	overlayCronJob = "overlays/cronjob"
	baseDir        = "base"
	agentDir       = "agent"
	secretsDir     = "secrets"
	exampleDir     = "examples/remote-cluster"
)

// allDirs is every kustomization, each rendered and applied on its own:
// base, agent and secrets are also applied standalone, and the example is
// what the README tells users to copy for another cluster.
var allDirs = []string{overlayKnative, overlayCronJob, baseDir, agentDir, secretsDir, exampleDir}

const (
	namespace  = "machinery-status-collector"
	modulePath = "github.com/stuttgart-things/machinery-status-collector"
	koPrefix   = "ko://"
)

// render builds dir with the kustomize API, as `kubectl kustomize` does,
// and returns the objects in output order.
func render(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := renderDir(dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return objs
}

func renderDir(dir string) ([]*unstructured.Unstructured, error) {
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, r := range resMap.Resources() {
		m, err := r.Map()
		if err != nil {
			return nil, err
		}
		// A JSON round trip gives the int64/float64 numbers unstructured
		// and the dynamic client expect (kyaml yields int).
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
	return objs, nil
}

// generatedSuffix is the content hash kustomize appends to generated
// ConfigMaps; ids replace it so the tables do not change with every value.
var generatedSuffix = regexp.MustCompile(`-[a-z0-9]{10}$`)

// objectID is "apiVersion Kind namespace/name" ("apiVersion Kind name"
// for cluster-scoped objects), with a generated name's hash as "<hash>".
func objectID(u *unstructured.Unstructured) string {
	name := u.GetName()
	if u.GetKind() == "ConfigMap" {
		name = generatedSuffix.ReplaceAllString(name, "-<hash>")
	}
	if ns := u.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return u.GetAPIVersion() + " " + u.GetKind() + " " + name
}

// find returns the object with the given id or fails.
func find(t testing.TB, objs []*unstructured.Unstructured, id string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if objectID(o) == id {
			return o
		}
	}
	t.Fatalf("no object %q", id)
	return nil
}

// The objects each kustomization must produce, no more and no fewer.
var (
	agentObjects = []string{
		"apps/v1 Deployment machinery-status-collector/machinery-status-agent",
		"rbac.authorization.k8s.io/v1 ClusterRole machinery-status-agent",
		"rbac.authorization.k8s.io/v1 ClusterRoleBinding machinery-status-agent",
		"v1 ConfigMap machinery-status-collector/agent-config-<hash>",
		"v1 ServiceAccount machinery-status-collector/machinery-status-agent",
	}
	baseObjects = []string{
		"apps/v1 StatefulSet machinery-status-collector/redis",
		"networking.k8s.io/v1 NetworkPolicy machinery-status-collector/redis",
		"v1 ConfigMap machinery-status-collector/collector-config-<hash>",
		"v1 ConfigMap machinery-status-collector/reconcile-config-<hash>",
		"v1 Namespace machinery-status-collector",
		"v1 Service machinery-status-collector/redis",
	}
	wantObjects = map[string][]string{
		overlayKnative: concat(baseObjects, agentObjects, []string{
			"serving.knative.dev/v1 Service machinery-status-collector/ingest",
			"serving.knative.dev/v1 Service machinery-status-collector/reconcile",
			"sources.knative.dev/v1 PingSource machinery-status-collector/reconcile",
		}),
		overlayCronJob: concat(baseObjects, agentObjects, []string{
			"apps/v1 Deployment machinery-status-collector/ingest",
			"batch/v1 CronJob machinery-status-collector/reconcile",
			"v1 Service machinery-status-collector/ingest",
		}),
		baseDir:    baseObjects,
		agentDir:   agentObjects,
		exampleDir: concat(agentObjects, []string{"v1 Namespace machinery-status-collector"}),
		secretsDir: {
			"v1 Secret machinery-status-collector/collector-token",
			"v1 Secret machinery-status-collector/github-token",
			"v1 Secret machinery-status-collector/ingest-tokens",
			"v1 Secret machinery-status-collector/redis-password",
		},
	}
)

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func TestRenderedObjects(t *testing.T) {
	for _, dir := range allDirs {
		t.Run(dir, func(t *testing.T) {
			var got []string
			for _, o := range render(t, dir) {
				got = append(got, objectID(o))
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(wantObjects[dir]))
			if !slices.Equal(got, want) {
				t.Errorf("kustomize build %s:\ngot\n  %s\nwant\n  %s", dir, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// Every ConfigMap generated in a kustomization carries the content hash,
// so a changed setting rolls the workloads that read it.
func TestGeneratedConfigMapsAreHashed(t *testing.T) {
	for _, dir := range allDirs {
		for _, o := range render(t, dir) {
			if o.GetKind() == "ConfigMap" && !generatedSuffix.MatchString(o.GetName()) {
				t.Errorf("%s: ConfigMap %s has no content hash", dir, o.GetName())
			}
		}
	}
}

// lookup walks maps by key and slices by index.
func lookup(v any, path ...any) (any, bool) {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil, false
			}
			v = s[k]
		default:
			panic(fmt.Sprintf("path element %T", p))
		}
	}
	return v, true
}

// The properties the issue and the design ask of the manifests, each
// value compared as JSON.
func TestManifestFields(t *testing.T) {
	const (
		ingestKsvc    = "serving.knative.dev/v1 Service machinery-status-collector/ingest"
		reconcileKsvc = "serving.knative.dev/v1 Service machinery-status-collector/reconcile"
		ping          = "sources.knative.dev/v1 PingSource machinery-status-collector/reconcile"
		cron          = "batch/v1 CronJob machinery-status-collector/reconcile"
		ingestDeploy  = "apps/v1 Deployment machinery-status-collector/ingest"
		redisSts      = "apps/v1 StatefulSet machinery-status-collector/redis"
		redisNetpol   = "networking.k8s.io/v1 NetworkPolicy machinery-status-collector/redis"
		agentDeploy   = "apps/v1 Deployment machinery-status-collector/machinery-status-agent"
		agentBinding  = "rbac.authorization.k8s.io/v1 ClusterRoleBinding machinery-status-agent"
		agentRole     = "rbac.authorization.k8s.io/v1 ClusterRole machinery-status-agent"
		agentConfig   = "v1 ConfigMap machinery-status-collector/agent-config-<hash>"
	)
	ksvcSpec := []any{"spec", "template", "spec"}
	ksvcAnn := []any{"spec", "template", "metadata", "annotations"}
	ksvcContainer := append(slices.Clone(ksvcSpec), "containers", 0)
	cronContainer := []any{"spec", "jobTemplate", "spec", "template", "spec", "containers", 0}
	podContainer := []any{"spec", "template", "spec", "containers", 0}
	at := func(base []any, more ...any) []any { return append(slices.Clone(base), more...) }

	tests := []struct {
		dir, object string
		path        []any
		want        string
	}{
		// ingest on Knative: scale bounds, readiness on /readyz, tokens from a Secret.
		{overlayKnative, ingestKsvc, at(ksvcAnn, "autoscaling.knative.dev/min-scale"), `"1"`},
		{overlayKnative, ingestKsvc, at(ksvcAnn, "autoscaling.knative.dev/max-scale"), `"10"`},
		{overlayKnative, ingestKsvc, at(ksvcContainer, "image"), `"ko://` + modulePath + `/functions/ingest/cmd"`},
		{overlayKnative, ingestKsvc, at(ksvcContainer, "readinessProbe", "httpGet", "path"), `"/readyz"`},
		{overlayKnative, ingestKsvc, at(ksvcSpec, "volumes", 0, "secret", "secretName"), `"ingest-tokens"`},
		// reconcile on Knative: one event at a time, cluster-local.
		{overlayKnative, reconcileKsvc, at(ksvcSpec, "containerConcurrency"), `1`},
		{overlayKnative, reconcileKsvc, []any{"metadata", "labels", "networking.knative.dev/visibility"}, `"cluster-local"`},
		{overlayKnative, reconcileKsvc, at(ksvcContainer, "image"), `"ko://` + modulePath + `/functions/reconcile/cmd"`},
		{overlayKnative, reconcileKsvc, at(ksvcContainer, "env", 0), `{"name":"GITHUB_TOKEN","valueFrom":{"secretKeyRef":{"key":"token","name":"github-token"}}}`},
		// The PingSource: every 5 minutes to reconcile. No contentType or
		// data: binary content mode with an empty event is its default.
		{overlayKnative, ping, []any{"spec"}, `{"schedule":"*/5 * * * *","sink":{"ref":{"apiVersion":"serving.knative.dev/v1","kind":"Service","name":"reconcile"}}}`},
		// The CronJob alternative: one-shot, never two at once.
		{overlayCronJob, cron, []any{"spec", "schedule"}, `"*/5 * * * *"`},
		{overlayCronJob, cron, []any{"spec", "concurrencyPolicy"}, `"Forbid"`},
		{overlayCronJob, cron, at(cronContainer, "args"), `["--once"]`},
		{overlayCronJob, cron, at(cronContainer, "image"), `"ko://` + modulePath + `/functions/reconcile/cmd"`},
		{overlayCronJob, ingestDeploy, at(podContainer, "readinessProbe", "httpGet", "path"), `"/readyz"`},
		// Redis keeps its data on a claimed volume.
		{baseDir, redisSts, []any{"spec", "volumeClaimTemplates", 0, "metadata", "name"}, `"data"`},
		{baseDir, redisSts, at(podContainer, "volumeMounts", 0), `{"mountPath":"/data","name":"data"}`},
		// Redis refuses writes when full instead of being OOM-killed (384 MiB
		// of its 512 MiB limit) and requires the redis-password Secret.
		{baseDir, redisSts, at(podContainer, "args"), `["redis-server","--appendonly","yes","--dir","/data","--maxmemory","384mb","--maxmemory-policy","noeviction","--requirepass","$(REDISCLI_AUTH)"]`},
		{baseDir, redisSts, at(podContainer, "env"), `[{"name":"REDISCLI_AUTH","valueFrom":{"secretKeyRef":{"key":"password","name":"redis-password"}}}]`},
		{baseDir, redisSts, at(podContainer, "resources", "limits", "memory"), `"512Mi"`},
		{baseDir, redisNetpol, []any{"spec"}, `{"ingress":[{"from":[{"podSelector":{"matchExpressions":[{"key":"app.kubernetes.io/name","operator":"In","values":["ingest","reconcile"]}]}}],"ports":[{"port":6379,"protocol":"TCP"}]}],"podSelector":{"matchLabels":{"app.kubernetes.io/name":"redis"}},"policyTypes":["Ingress"]}`},
		// The functions read the Redis password from the mounted Secret.
		{overlayKnative, ingestKsvc, at(ksvcSpec, "volumes", 1, "secret", "secretName"), `"redis-password"`},
		{overlayKnative, reconcileKsvc, at(ksvcSpec, "volumes", 0, "secret", "secretName"), `"redis-password"`},
		{overlayCronJob, ingestDeploy, []any{"spec", "template", "spec", "volumes", 1, "secret", "secretName"}, `"redis-password"`},
		{overlayCronJob, cron, []any{"spec", "jobTemplate", "spec", "template", "spec", "volumes", 0, "secret", "secretName"}, `"redis-password"`},
		// The agent: its own ServiceAccount, bound in the namespace kustomize set.
		{agentDir, agentDeploy, []any{"spec", "template", "spec", "serviceAccountName"}, `"machinery-status-agent"`},
		{agentDir, agentDeploy, at(podContainer, "image"), `"ko://` + modulePath + `/agent/cmd"`},
		{agentDir, agentBinding, []any{"subjects"}, `[{"kind":"ServiceAccount","name":"machinery-status-agent","namespace":"machinery-status-collector"}]`},
		// The example for another cluster overrides name, URL and rules.
		{exampleDir, agentConfig, []any{"data"}, `{"CLUSTER_NAME":"cluster-b","COLLECTOR_URL":"https://ingest.machinery-status-collector.example.com","LOG_LEVEL":"info"}`},
		{exampleDir, agentRole, []any{"rules"}, `[{"apiGroups":["database.example.org"],"resources":["postgresqls"],"verbs":["list","watch"]}]`},
	}
	rendered := map[string][]*unstructured.Unstructured{}
	for _, tt := range tests {
		if rendered[tt.dir] == nil {
			rendered[tt.dir] = render(t, tt.dir)
		}
		v, ok := lookup(find(t, rendered[tt.dir], tt.object).Object, tt.path...)
		if !ok {
			t.Errorf("%s %s: no field %v", tt.dir, tt.object, tt.path)
			continue
		}
		got, _ := json.Marshal(v)
		if string(got) != tt.want {
			t.Errorf("%s %s %v:\ngot  %s\nwant %s", tt.dir, tt.object, tt.path, got, tt.want)
		}
	}
}

// repoRoot is the module root, the parent of this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod in %s: %v", root, err)
	}
	return root
}

package monitoring

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/stuttgart-things/machinery-status-collector/functions/ingest"
	"github.com/stuttgart-things/machinery-status-collector/functions/reconcile"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// render builds dir with the kustomize API, as `kubectl kustomize` does,
// and returns the objects by "Kind name".
func render(t *testing.T, dir string) map[string]*unstructured.Unstructured {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	objs := map[string]*unstructured.Unstructured{}
	for _, r := range resMap.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		objs[u.GetKind()+" "+u.GetName()] = u
	}
	return objs
}

func TestRenderedObjects(t *testing.T) {
	objs := render(t, ".")
	var got []string
	for id, o := range objs {
		got = append(got, o.GetAPIVersion()+" "+id+" ns="+o.GetNamespace()+" part-of="+o.GetLabels()["app.kubernetes.io/part-of"])
	}
	slices.Sort(got)
	want := []string{
		"monitoring.coreos.com/v1 PrometheusRule machinery-status-collector ns=machinery-status-collector part-of=machinery-status-collector",
		"monitoring.coreos.com/v1 ServiceMonitor ingest ns=machinery-status-collector part-of=machinery-status-collector",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The ServiceMonitor selects the cronjob overlay's ingest Service on a
// port it has, and the labels Knative copies from the ingest's template to
// the revision's private Service (port "http", as Knative names it).
func TestServiceMonitorSelectsIngest(t *testing.T) {
	sm := render(t, ".")["ServiceMonitor ingest"]
	match, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	exprs, _, _ := unstructured.NestedSlice(sm.Object, "spec", "selector", "matchExpressions")
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(endpoints) != 1 {
		t.Fatalf("endpoints = %v", endpoints)
	}
	port := endpoints[0].(map[string]any)["port"]
	selects := func(labels map[string]string) bool {
		for k, v := range match {
			if labels[k] != v {
				return false
			}
		}
		for _, e := range exprs {
			e := e.(map[string]any)
			if e["operator"] != "NotIn" || slices.Contains(e["values"].([]any), any(labels[e["key"].(string)])) {
				return false
			}
		}
		return true
	}

	svc := render(t, "../overlays/cronjob")["Service ingest"]
	if !selects(svc.GetLabels()) {
		t.Errorf("cronjob ingest Service labels %v not selected by %v %v", svc.GetLabels(), match, exprs)
	}
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if !slices.ContainsFunc(ports, func(p any) bool { return p.(map[string]any)["name"] == port }) {
		t.Errorf("cronjob ingest Service has no port %v: %v", port, ports)
	}

	ksvc := render(t, "../overlays/knative")["Service ingest"]
	tmpl, _, _ := unstructured.NestedStringMap(ksvc.Object, "spec", "template", "metadata", "labels")
	private := map[string]string{"networking.internal.knative.dev/serviceType": "Private"}
	public := map[string]string{"networking.internal.knative.dev/serviceType": "Public"}
	for k, v := range tmpl {
		private[k], public[k] = v, v
	}
	if !selects(private) || port != "http" {
		t.Errorf("Knative private Service (labels %v, port http) not selected by %v %v port %v", private, match, exprs, port)
	}
	if selects(public) {
		t.Errorf("Knative public Service selected too: %v", public)
	}
}

// recorder is a Registerer that keeps the names of the series registered.
type recorder struct{ names map[string]bool }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *recorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *recorder) Unregister(prometheus.Collector) bool { return false }

// groups returns the PrometheusRule's spec: a Prometheus rules file.
func groups(t *testing.T) []byte {
	t.Helper()
	spec, _, _ := unstructured.NestedMap(render(t, ".")["PrometheusRule machinery-status-collector"].Object, "spec")
	b, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every msc_ series an alert uses is one the ingest or the reconcile
// registers: a renamed metric would silence its alert.
func TestRulesUseExportedSeries(t *testing.T) {
	rec := &recorder{names: map[string]bool{}}
	// Describe never reaches Redis: the address need not answer.
	st := store.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), "")
	ingest.New(ingest.Options{Store: st, Registerer: rec, Gatherer: prometheus.NewRegistry()})
	reconcile.NewMetrics(rec)
	used := regexp.MustCompile(`\bmsc_[a-z_]+`).FindAllString(string(groups(t)), -1)
	if len(used) == 0 {
		t.Fatal("the rules use no msc_ series")
	}
	for _, name := range used {
		if !rec.names[name] {
			t.Errorf("rules use %s, which no function exports (exported: %v)", name, rec.names)
		}
	}
}

// promtool checks the rules and runs the alert unit tests.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (make test-deps)")
	}
	dir := t.TempDir()
	tests, err := os.ReadFile("testdata/alerts.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules := groups(t)
	for _, m := range regexp.MustCompile(`alert: (\w+)`).FindAllStringSubmatch(string(rules), -1) {
		if !strings.Contains(string(tests), "alertname: "+m[1]+"\n") {
			t.Errorf("alert %s has no unit test in testdata/alerts.test.yaml", m[1])
		}
	}
	for name, b := range map[string][]byte{"rules.yaml": rules, "alerts.test.yaml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "alerts.test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}
}

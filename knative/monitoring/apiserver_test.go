package monitoring

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
)

// The Prometheus Operator release whose CRDs validate the manifests. Its
// module zip carries them; it is fetched with `go mod download` and never
// added to go.mod.
const (
	operatorModule  = "github.com/prometheus-operator/prometheus-operator"
	operatorVersion = "v0.85.0"
	operatorCRDDir  = "example/prometheus-operator-crd"
)

var (
	nsGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	// resources maps the manifests' kinds to their CRD file and resource.
	resources = map[string]struct {
		file string
		gvr  schema.GroupVersionResource
	}{
		"ServiceMonitor": {"monitoring.coreos.com_servicemonitors.yaml", schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}},
		"PrometheusRule": {"monitoring.coreos.com_prometheusrules.yaml", schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}},
	}
)

// operatorCRDs returns the directory of the operator's CRDs in the module
// cache, downloading the module outside any module so go.mod is untouched.
func operatorCRDs(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", operatorModule+"@"+operatorVersion)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s %s", operatorModule, operatorVersion, err, info.Error, stderr.String())
	}
	return filepath.Join(info.Dir, operatorCRDDir)
}

// TestDryRunAgainstOperatorCRDs applies every rendered object with a
// server-side dry run and strict field validation to a real API server
// carrying the Prometheus Operator's CRDs; a misspelt field is refused.
func TestDryRunAgainstOperatorCRDs(t *testing.T) {
	dir := operatorCRDs(t)
	kube := kubetest.Start(t)
	client := dynamic.NewForConfigOrDie(kube.RESTConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for kind, r := range resources {
		b, err := os.ReadFile(filepath.Join(dir, r.file))
		if err != nil {
			t.Fatalf("CRD of %s: %v", kind, err)
		}
		crd := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &crd.Object); err != nil {
			t.Fatalf("%s: %v", r.file, err)
		}
		if _, err := client.Resource(kubetest.CRDResource).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create CRD %s: %v", crd.GetName(), err)
		}
	}
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "machinery-status-collector"}}}
	if _, err := client.Resource(nsGVR).Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	dryRun := func(obj *unstructured.Unstructured) error {
		r, ok := resources[obj.GetKind()]
		if !ok {
			t.Fatalf("no CRD for kind %s", obj.GetKind())
		}
		var err error
		// A CRD serves a moment after it is created: retry "not found"
		// for the resource (not for the object) until the deadline.
		for ctx.Err() == nil {
			_, err = client.Resource(r.gvr).Namespace(obj.GetNamespace()).Create(ctx, obj,
				metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
			if err == nil || !strings.Contains(err.Error(), "the server could not find the requested resource") {
				return err
			}
			time.Sleep(100 * time.Millisecond) // poll interval
		}
		return err
	}
	objs := render(t, ".")
	for id, obj := range objs {
		if err := dryRun(obj); err != nil {
			t.Errorf("dry run %s: %v", id, err)
		}
	}

	// The same ServiceMonitor with one misspelt field must be refused, or
	// the dry run above proves nothing.
	bad := objs["ServiceMonitor ingest"].DeepCopy()
	endpoints, _, _ := unstructured.NestedSlice(bad.Object, "spec", "endpoints")
	endpoints[0].(map[string]any)["intervall"] = "30s"
	_ = unstructured.SetNestedSlice(bad.Object, endpoints, "spec", "endpoints")
	if err := dryRun(bad); err == nil || !strings.Contains(err.Error(), "intervall") {
		t.Errorf("a misspelt field passed the dry run: %v", err)
	}
}

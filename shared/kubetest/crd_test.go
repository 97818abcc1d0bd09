package kubetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCRD(t *testing.T) {
	gvr := schema.GroupVersionResource{Group: "database.example.org", Version: "v1alpha1", Resource: "postgresqls"}
	c := CRD(gvr, "PostgreSQL", "claim")
	str := func(path ...string) string { v, _, _ := unstructured.NestedString(c.Object, path...); return v }
	cats, _, _ := unstructured.NestedSlice(c.Object, "spec", "names", "categories")
	if c.GetName() != "postgresqls.database.example.org" || str("spec", "names", "singular") != "postgresql" ||
		str("spec", "names", "listKind") != "PostgreSQLList" || !reflect.DeepEqual(cats, []any{"claim"}) {
		t.Fatalf("CRD = %v", c.Object)
	}
	versions, _, _ := unstructured.NestedSlice(c.Object, "spec", "versions")
	if _, ok := versions[0].(map[string]any)["subresources"].(map[string]any)["status"]; !ok {
		t.Fatal("no status subresource")
	}
	if cats, _, _ := unstructured.NestedSlice(CRD(gvr, "PostgreSQL").Object, "spec", "names", "categories"); len(cats) != 0 {
		t.Fatalf("categories without any asked: %v", cats)
	}
}

// Once InstallCRDs returns, the resource is served at once (no retry);
// a second install of the same CRD is fine; a CRD that can never be
// established (its kind is taken in its group) fails by the deadline,
// named.
func TestInstallCRDs(t *testing.T) {
	c := Shared(t)
	dyn := dynamic.NewForConfigOrDie(c.RESTConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gvr := schema.GroupVersionResource{Group: "install.example.org", Version: "v1alpha1", Resource: "widgets"}
	if err := InstallCRDs(ctx, dyn, CRD(gvr, "Widget")); err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "install.example.org/v1alpha1", "kind": "Widget", "metadata": map[string]any{"name": "w", "namespace": "default"}}}
	if _, err := dyn.Resource(gvr).Namespace("default").Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create a Widget right after InstallCRDs: %v", err)
	}
	if err := InstallCRDs(ctx, dyn, CRD(gvr, "Widget")); err != nil {
		t.Fatalf("second install: %v", err)
	}
	taken := CRD(schema.GroupVersionResource{Group: gvr.Group, Version: gvr.Version, Resource: "gadgets"}, "Widget")
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	err := InstallCRDs(short, dyn, taken)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gadgets.install.example.org") {
		t.Fatalf("a CRD whose kind is taken: err %v, want the deadline naming it", err)
	}
}

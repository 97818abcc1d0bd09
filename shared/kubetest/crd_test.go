package kubetest

import (
	"reflect"
	"testing"

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

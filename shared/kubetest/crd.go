package kubetest

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CRD is a namespaced CustomResourceDefinition for gvr with a status
// subresource and an open schema, as Crossplane generates for a claim;
// categories put it in (or, when empty, keep it out of) categories such as
// "claim".
func CRD(gvr schema.GroupVersionResource, kind string, categories ...string) *unstructured.Unstructured {
	cats := make([]any, len(categories))
	for i, c := range categories {
		cats[i] = c
	}
	open := map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": gvr.Resource + "." + gvr.Group},
		"spec": map[string]any{
			"group": gvr.Group, "scope": "Namespaced",
			"names": map[string]any{"kind": kind, "listKind": kind + "List", "plural": gvr.Resource,
				"singular": strings.ToLower(kind), "categories": cats},
			"versions": []any{map[string]any{
				"name": gvr.Version, "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "properties": map[string]any{"spec": open, "status": open},
				}},
			}},
		},
	}}
}

// Established reports whether a CustomResourceDefinition's Established
// condition is True, i.e. the API server serves its resource.
func Established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

package kubetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// CRDResource is where CustomResourceDefinitions live.
var CRDResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

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

// InstallCRDs creates crds (one that exists is kept as it is) and waits,
// polling every 100 ms until ctx ends, until each is Established: from
// then on the API server serves its resource, though discovery may lag a
// moment. The error names the CRDs that were not established.
func InstallCRDs(ctx context.Context, dyn dynamic.Interface, crds ...*unstructured.Unstructured) error {
	pending := map[string]bool{}
	for _, c := range crds {
		if _, err := dyn.Resource(CRDResource).Create(ctx, c, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create CRD %s: %w", c.GetName(), err)
		}
		pending[c.GetName()] = true
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		for name := range pending {
			got, err := dyn.Resource(CRDResource).Get(ctx, name, metav1.GetOptions{})
			if err == nil && Established(got) {
				delete(pending, name)
			} else if err != nil {
				lastErr = err
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			names := make([]string, 0, len(pending))
			for n := range pending {
				names = append(names, n)
			}
			sort.Strings(names)
			if lastErr != nil {
				return fmt.Errorf("CRDs %s not established (last error: %v): %w", strings.Join(names, ", "), lastErr, ctx.Err())
			}
			return fmt.Errorf("CRDs %s not established: %w", strings.Join(names, ", "), ctx.Err())
		case <-tick.C:
		}
	}
}

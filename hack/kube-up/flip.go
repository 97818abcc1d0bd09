package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// claimCategory is the category Crossplane puts claim resources in, the
// one the agent discovers.
const claimCategory = "claim"

// claimResources are the served resources in the claim category.
func (k *kube) claimResources() ([]schema.GroupVersionResource, error) {
	_, lists, err := k.disc.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var out []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if r.Namespaced && !strings.Contains(r.Name, "/") && slices.Contains(r.Categories, claimCategory) {
				out = append(out, gv.WithResource(r.Name))
			}
		}
	}
	return out, nil
}

// flip toggles the Ready condition of the claim ref ("namespace/name", in
// any resource of the claim category) between True and False through the
// status subresource, and says what it did. A claim without a Ready
// condition becomes Ready=True.
func (k *kube) flip(ctx context.Context, ref string, now time.Time) (string, error) {
	ns, name, ok := strings.Cut(ref, "/")
	if !ok || ns == "" || name == "" {
		return "", fmt.Errorf("claim %q: want namespace/name", ref)
	}
	gvrs, err := k.claimResources()
	if err != nil {
		return "", err
	}
	for _, gvr := range gvrs {
		ri := k.dyn.Resource(gvr).Namespace(ns)
		c, err := ri.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("get %s %s: %w", gvr.Resource, ref, err)
		}
		old, next := setReady(c, now)
		if _, err := ri.UpdateStatus(ctx, c, metav1.UpdateOptions{}); err != nil {
			return "", fmt.Errorf("update status of %s %s: %w", gvr.Resource, ref, err)
		}
		return fmt.Sprintf("%s %s: Ready %s -> %s", gvr.GroupResource(), ref, old, next), nil
	}
	return "", fmt.Errorf("claim %s: not found in any resource of the %q category", ref, claimCategory)
}

// setReady flips c's Ready condition (True becomes False, anything else
// True) and returns the old and new status ("none" when it had none).
func setReady(c *unstructured.Unstructured, now time.Time) (old, next string) {
	conds, _, _ := unstructured.NestedSlice(c.Object, "status", "conditions")
	old, next = "none", "True"
	idx := -1
	for i, x := range conds {
		if m, ok := x.(map[string]any); ok && m["type"] == "Ready" {
			idx = i
			old, _ = m["status"].(string)
		}
	}
	cond := map[string]any{"type": "Ready", "status": "True", "reason": "Available",
		"message": "Resource is available", "lastTransitionTime": now.UTC().Format(time.RFC3339)}
	if old == "True" {
		next = "False"
		cond["status"], cond["reason"], cond["message"] = "False", "Unavailable", "Flipped by make flip-claim"
	}
	if idx < 0 {
		conds = append(conds, cond)
	} else {
		conds[idx] = cond
	}
	_ = unstructured.SetNestedSlice(c.Object, conds, "status", "conditions")
	return old, next
}

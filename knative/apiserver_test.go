package knative

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
)

var (
	nsGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// apiServer is the package's kube-apiserver with Knative's CRDs installed
// and the manifests' namespace created (a dry run cannot create objects in
// a namespace that does not exist).
type apiServer struct {
	kube   *kubetest.Cluster
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

var (
	apiOnce sync.Once
	api     *apiServer
	apiErr  error
)

// sharedAPI prepares the shared cluster once for every test that needs it.
func sharedAPI(t testing.TB) *apiServer {
	t.Helper()
	kube := kubetest.Shared(t)
	root := repoRoot(t)
	apiOnce.Do(func() {
		start := time.Now()
		api, apiErr = prepareAPI(kube, root)
		if apiErr == nil {
			t.Logf("API server with Knative CRDs ready in %s", time.Since(start).Round(time.Millisecond))
		}
	})
	if apiErr != nil {
		t.Fatal(apiErr)
	}
	return api
}

func prepareAPI(kube *kubetest.Cluster, root string) (*apiServer, error) {
	crds, err := knativeCRDs(root)
	if err != nil {
		return nil, err
	}
	cfg := kube.RESTConfig()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := kubetest.InstallCRDs(ctx, dyn, crds...); err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	// Established CRDs reach discovery a moment later; poll the mapper
	// (reset between tries) until every kind resolves.
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		mapper.Reset()
		for _, c := range crds {
			if _, err := mapper.RESTMapping(crdKind(c)); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("Knative kinds not in discovery: %w", err)
	}
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": namespace},
	}}
	if _, err := dyn.Resource(nsGVR).Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create namespace: %w", err)
	}
	return &apiServer{kube: kube, dyn: dyn, mapper: mapper}, nil
}

// crdKind is a CRD's group/kind and its storage version.
func crdKind(crd *unstructured.Unstructured) (schema.GroupKind, string) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	version := ""
	for _, v := range versions {
		m := v.(map[string]any)
		if m["storage"] == true {
			version, _ = m["name"].(string)
		}
	}
	return schema.GroupKind{Group: group, Kind: kind}, version
}

// How a dry run sends an object: a server-side apply (what `kubectl apply
// --server-side` does) or a create. Both are checked: apply rejects any
// field outside the schema at every validation level, while create shows
// what fieldValidation=Strict adds (Ignore would prune a typo silently).
const (
	viaApply  = "apply"
	viaCreate = "create"
)

// dryRun sends obj with dryRun=All and the given field validation
// ("Strict" for the manifests). A create of an object that exists (the
// namespace; the ClusterRole the RBAC test binds) answers AlreadyExists
// only after decoding, admission and validation passed, so that counts as
// accepted.
func (a *apiServer) dryRun(ctx context.Context, obj *unstructured.Unstructured, via, validation string) error {
	gvk := obj.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("no API for %s: %w", gvk, err)
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = a.dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
	}
	dryRun := []string{metav1.DryRunAll}
	switch via {
	case viaApply:
		data, err := obj.MarshalJSON()
		if err != nil {
			return err
		}
		force := true
		_, err = ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
			DryRun: dryRun, FieldManager: "knative-manifests-test", Force: &force, FieldValidation: validation,
		})
		return err
	case viaCreate:
		_, err := ri.Create(ctx, obj, metav1.CreateOptions{DryRun: dryRun, FieldValidation: validation})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	return fmt.Errorf("unknown dry-run method %q", via)
}

// placeholderImage stands in for a ko:// reference, which only ko resolves.
const placeholderImage = "registry.invalid/machinery-status-collector:dry-run"

// withPlaceholderImages returns a copy of obj whose ko:// images are
// placeholderImage.
func withPlaceholderImages(obj *unstructured.Unstructured) *unstructured.Unstructured {
	c := obj.DeepCopy()
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "image" && strings.HasPrefix(s, koPrefix) {
					x[k] = placeholderImage
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(c.Object)
	return c
}

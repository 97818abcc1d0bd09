package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
)

// kube is what apply and flip talk to the API server through.
type kube struct {
	dyn  dynamic.Interface
	disc discovery.DiscoveryInterface
}

// newKube builds the clients for rc.
func newKube(rc *rest.Config) (*kube, error) {
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &kube{dyn: dyn, disc: disc}, nil
}

// readManifests decodes every YAML document of the *.yaml files in dir,
// in file-name order; CRDs sort first so the objects of their kinds can
// follow in any file.
func readManifests(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml files in %s", dir)
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
		for {
			var m map[string]any
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if m != nil {
				objs = append(objs, &unstructured.Unstructured{Object: m})
			}
		}
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return boolRank(b.GetKind() == "CustomResourceDefinition") - boolRank(a.GetKind() == "CustomResourceDefinition")
	})
	return objs, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// apply creates the objects of the manifests in dir (an existing one is
// left as it is), waits for each CRD to be served, and writes each
// object's status through the status subresource, as a controller would.
// It returns what it did, one line per object.
func (k *kube) apply(ctx context.Context, dir string) ([]string, error) {
	objs, err := readManifests(dir)
	if err != nil {
		return nil, err
	}
	var done []string
	var mapper meta.RESTMapper
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			if err := k.createCRD(ctx, o); err != nil {
				return done, err
			}
			mapper = nil // a new kind: discover again
			done = append(done, "crd "+o.GetName())
			continue
		}
		if mapper == nil {
			groups, err := restmapper.GetAPIGroupResources(k.disc)
			if err != nil {
				return done, fmt.Errorf("discovery: %w", err)
			}
			mapper = restmapper.NewDiscoveryRESTMapper(groups)
		}
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return done, fmt.Errorf("%s %s: %w", gvk.Kind, o.GetName(), err)
		}
		var ri dynamic.ResourceInterface = k.dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if o.GetNamespace() == "" {
				o.SetNamespace("default")
			}
			ri = k.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		id := strings.ToLower(gvk.Kind) + " " + strings.TrimPrefix(o.GetNamespace()+"/"+o.GetName(), "/")
		created, err := ri.Create(ctx, o, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			done = append(done, id+" exists")
			continue
		} else if err != nil {
			return done, fmt.Errorf("create %s: %w", id, err)
		}
		if st, ok := o.Object["status"]; ok && m.Resource.Resource != "namespaces" {
			created.Object["status"] = st
			if _, err := ri.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
				return done, fmt.Errorf("status of %s: %w", id, err)
			}
		}
		done = append(done, id)
	}
	return done, nil
}

// createCRD creates o unless it exists and waits, at most 30 s, until the
// API server serves it.
func (k *kube) createCRD(ctx context.Context, o *unstructured.Unstructured) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return kubetest.InstallCRDs(ctx, k.dyn, o)
}

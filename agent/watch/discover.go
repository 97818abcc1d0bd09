package watch

import (
	"context"
	"errors"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// discover asks the discovery API for the claim resources and reconciles
// the running informers with the answer: new resources get an informer,
// vanished ones lose theirs, a changed preferred version restarts it. A
// group whose discovery failed keeps its informers, so an aggregated API
// hiccup does not drop a cache.
func (w *Watcher) discover(ctx context.Context) {
	lists, err := discovery.ServerPreferredResources(w.opts.Discovery)
	failed := map[string]bool{}
	var gdf *discovery.ErrGroupDiscoveryFailed
	switch {
	case err == nil:
	case errors.As(err, &gdf):
		for gv, gerr := range gdf.Groups {
			failed[gv.Group] = true
			w.log.Warn("discovery failed for an API group; keeping its informers", "groupVersion", gv.String(), "error", gerr.Error())
		}
	default:
		w.log.Warn("discovery failed; keeping the current informers", "error", err.Error())
		return
	}
	want := claimResources(lists, w.opts.Group)

	w.mu.Lock()
	if ctx.Err() != nil {
		w.mu.Unlock()
		return
	}
	w.discovered = true
	var stopped []*informer
	for res, i := range w.informers {
		gvr, ok := want[res]
		switch {
		case !ok && failed[i.gvr.Group]:
		case !ok || gvr != i.gvr:
			stopped = append(stopped, w.removeLocked(res))
		}
	}
	for res, gvr := range want {
		if _, ok := w.informers[res]; !ok {
			w.start(ctx, gvr)
		}
	}
	n := len(w.informers)
	w.mu.Unlock()
	w.wait(stopped)
	w.opts.Metrics.Informers(n)
}

// claimResources picks the resources in Category from discovery lists, by
// resource.group: namespaced (claims are), listable and watchable, no
// subresources; group limits them to one API group when not empty.
func claimResources(lists []*metav1.APIResourceList, group string) map[string]schema.GroupVersionResource {
	out := map[string]schema.GroupVersionResource{}
	for _, l := range lists {
		if l == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil || (group != "" && gv.Group != group) {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !r.Namespaced ||
				!slices.Contains(r.Categories, Category) ||
				!slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "watch") {
				continue
			}
			gvr := gv.WithResource(r.Name)
			out[gvr.GroupResource().String()] = gvr
		}
	}
	return out
}

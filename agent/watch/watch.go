// Package watch runs the agent's informers: one for a configured claim
// resource, or one per resource in the "claim" category, found through the
// discovery API and started and stopped as CRDs come and go.
package watch

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/stuttgart-things/machinery-status-collector/agent/claim"
	"github.com/stuttgart-things/machinery-status-collector/agent/metrics"
)

// Category is the API category Crossplane puts every claim CRD in.
const Category = "claim"

// Handler receives claim events; *controller.Controller implements it.
// Calls come from informer goroutines and must not block for long.
type Handler interface {
	// Changed: the claim was added, or its status-relevant fields changed.
	Changed(key claim.Key)
	// Deleted: the claim is gone; last is its final known state.
	Deleted(key claim.Key, last *claim.Claim)
}

// Options configure a Watcher.
type Options struct {
	Client dynamic.Interface
	// Resource selects single-resource mode when non-nil. Otherwise
	// Discovery is polled every DiscoveryInterval for resources in
	// Category, limited to Group when that is set.
	Resource          *schema.GroupVersionResource
	Discovery         discovery.DiscoveryInterface
	Group             string
	DiscoveryInterval time.Duration // default 30s
	Namespace         string        // empty = all namespaces
	// InformerResync re-delivers cached claims as updates every period;
	// 0 (the default) disables it, since the controller's full resync
	// re-sends everything anyway. Such updates never reach Handler:
	// they carry no status change.
	InformerResync time.Duration
	Handler        Handler
	Clock          clock.WithTicker // default real time
	Logger         *slog.Logger     // default slog.Default()
	Metrics        *metrics.Metrics // nil records nothing
}

// Watcher owns the informers. Its read methods are safe for concurrent use
// and serve as the controller's Source.
type Watcher struct {
	opts Options
	log  *slog.Logger

	mu        sync.RWMutex
	informers map[string]*informer // by resource.group
	// discovered is true once discovery succeeded (always in
	// single-resource mode): before that, "no informers" is not synced.
	discovered bool
}

// informer is one running informer and how to stop it.
type informer struct {
	gvr    schema.GroupVersionResource
	inf    cache.SharedIndexInformer
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Watcher; Run starts it.
func New(opts Options) *Watcher {
	if opts.DiscoveryInterval <= 0 {
		opts.DiscoveryInterval = 30 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Watcher{opts: opts, log: opts.Logger, informers: map[string]*informer{}}
}

// Run starts the informers and, in discovery mode, polls discovery until
// ctx ends. It returns after every informer stopped.
func (w *Watcher) Run(ctx context.Context) {
	defer w.stopAll()
	if w.opts.Resource != nil {
		w.mu.Lock()
		w.discovered = true
		w.start(ctx, *w.opts.Resource)
		w.mu.Unlock()
		w.opts.Metrics.Informers(1)
		<-ctx.Done()
		return
	}
	ticker := w.opts.Clock.NewTicker(w.opts.DiscoveryInterval)
	defer ticker.Stop()
	for {
		w.discover(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		}
	}
}

// Get returns the cached claim for key.
func (w *Watcher) Get(key claim.Key) (*claim.Claim, bool) {
	w.mu.RLock()
	i := w.informers[key.Resource]
	w.mu.RUnlock()
	if i == nil {
		return nil, false
	}
	obj, ok, err := i.inf.GetStore().GetByKey(key.Namespace + "/" + key.Name)
	if err != nil || !ok {
		return nil, false
	}
	c, ok := obj.(*claim.Claim)
	return c, ok
}

// Keys lists the keys of every cached claim.
func (w *Watcher) Keys() []claim.Key {
	w.mu.RLock()
	defer w.mu.RUnlock()
	var keys []claim.Key
	for res, i := range w.informers {
		for _, k := range i.inf.GetStore().ListKeys() {
			ns, name, ok := strings.Cut(k, "/")
			if !ok { // cluster-scoped: not a claim, never cached
				continue
			}
			keys = append(keys, claim.Key{Resource: res, Namespace: ns, Name: name})
		}
	}
	return keys
}

// Len is the number of cached claims.
func (w *Watcher) Len() int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	n := 0
	for _, i := range w.informers {
		n += len(i.inf.GetStore().ListKeys())
	}
	return n
}

// Synced reports whether discovery has answered and every informer has
// completed its initial list.
func (w *Watcher) Synced() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.discovered {
		return false
	}
	for _, i := range w.informers {
		if !i.inf.HasSynced() {
			return false
		}
	}
	return true
}

// Resources lists the watched resources, sorted.
func (w *Watcher) Resources() []schema.GroupVersionResource {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]schema.GroupVersionResource, 0, len(w.informers))
	for _, i := range w.informers {
		out = append(out, i.gvr)
	}
	slices.SortFunc(out, func(a, b schema.GroupVersionResource) int {
		return strings.Compare(a.String(), b.String())
	})
	return out
}

// start runs an informer for gvr; w.mu must be held.
func (w *Watcher) start(ctx context.Context, gvr schema.GroupVersionResource) {
	ri := w.opts.Client.Resource(gvr).Namespace(w.opts.Namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return ri.List(ctx, o)
		},
		WatchFuncWithContext: ri.Watch,
	}
	inf := cache.NewSharedIndexInformerWithOptions(lw, &unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{ResyncPeriod: w.opts.InformerResync, ObjectDescription: name(gvr)})
	// Errors only mean the informer is already running; it is not.
	_ = inf.SetTransform(claim.Transform)
	_ = inf.SetWatchErrorHandlerWithContext(w.watchErrorHandler(gvr))
	gr := gvr.GroupResource()
	_, _ = inf.AddEventHandler(handler{gr: gr, h: w.opts.Handler, log: w.log, m: w.opts.Metrics})

	ictx, cancel := context.WithCancel(ctx)
	i := &informer{gvr: gvr, inf: inf, cancel: cancel, done: make(chan struct{})}
	w.informers[gr.String()] = i
	go func() {
		defer close(i.done)
		inf.RunWithContext(ictx)
	}()
	w.log.Info("watching claims", "resource", name(gvr), "namespace", w.opts.Namespace)
}

// removeLocked takes the informer of resource res out of the map and
// cancels it; w.mu must be held. The caller waits for it (wait) after
// releasing w.mu: an informer finishing a handler call may need locks that
// a reader of the Watcher holds. Its cached claims are dropped without
// deletion events: a resource leaving discovery is no evidence that its
// claims are gone (their deletion, when the CRD is deleted, arrives as
// watch events first).
func (w *Watcher) removeLocked(res string) *informer {
	i := w.informers[res]
	delete(w.informers, res)
	i.cancel()
	return i
}

// wait blocks until the stopped informers have exited.
func (w *Watcher) wait(stopped []*informer) {
	for _, i := range stopped {
		<-i.done
		w.log.Info("stopped watching claims", "resource", name(i.gvr))
	}
}

// stopAll stops every informer and waits for them.
func (w *Watcher) stopAll() {
	w.mu.Lock()
	var stopped []*informer
	for res := range w.informers {
		stopped = append(stopped, w.removeLocked(res))
	}
	w.mu.Unlock()
	w.wait(stopped)
	w.opts.Metrics.Informers(0)
}

// watchErrorHandler adds an actionable hint to the errors an operator can
// fix (RBAC), then defers to client-go's handling.
func (w *Watcher) watchErrorHandler(gvr schema.GroupVersionResource) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, r *cache.Reflector, err error) {
		if apierrors.IsForbidden(err) {
			w.log.Error("not allowed to list/watch claims: grant list and watch on this resource (see agent/rbac.yaml)",
				"resource", name(gvr), "error", err.Error())
		}
		cache.DefaultWatchErrorHandler(ctx, r, err)
	}
}

// name is how logs show a resource: plural.group/version, the form
// kubectl users know.
func name(gvr schema.GroupVersionResource) string {
	return gvr.GroupResource().String() + "/" + gvr.Version
}

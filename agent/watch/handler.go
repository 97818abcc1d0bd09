package watch

import (
	"log/slog"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/stuttgart-things/machinery-status-collector/agent/claim"
	"github.com/stuttgart-things/machinery-status-collector/agent/metrics"
)

// handler adapts one informer's events to Handler. It drops updates that
// change nothing the status record carries (labels, annotations, informer
// resyncs), so they cost neither queue work nor requests.
type handler struct {
	gr  schema.GroupResource
	h   Handler
	log *slog.Logger
	m   *metrics.Metrics
}

var _ cache.ResourceEventHandler = handler{}

// OnAdd queues a new or initially listed claim.
func (h handler) OnAdd(obj any, _ bool) {
	if c, ok := h.claim(obj); ok {
		h.m.Event(metrics.EventAdd)
		h.h.Changed(claim.KeyOf(h.gr, c))
	}
}

// OnUpdate queues a claim whose status-relevant fields changed.
func (h handler) OnUpdate(oldObj, newObj any) {
	n, ok := h.claim(newObj)
	if !ok {
		return
	}
	if o, ok := oldObj.(*claim.Claim); ok && claim.StatusEqual(o, n) {
		h.m.Event(metrics.EventUnchanged)
		return
	}
	h.m.Event(metrics.EventUpdate)
	h.h.Changed(claim.KeyOf(h.gr, n))
}

// OnDelete reports a deleted claim, also when the informer missed the
// deletion and only learned of it on relist (a DeletedFinalStateUnknown
// tombstone carrying the last cached state).
func (h handler) OnDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if c, ok := h.claim(obj); ok {
		h.m.Event(metrics.EventDelete)
		h.h.Deleted(claim.KeyOf(h.gr, c), c)
	}
}

// claim returns obj as a transformed claim; the informer's transform runs
// before the handlers, but a tombstone may carry an object from before it.
func (h handler) claim(obj any) (*claim.Claim, bool) {
	t, err := claim.Transform(obj)
	if err != nil {
		h.log.Error("ignoring unexpected object in claim informer", "resource", h.gr.String(), "error", err.Error())
		return nil, false
	}
	c := t.(*claim.Claim)
	if c.Namespace == "" {
		// Cluster-scoped objects have no claimRef; discovery skips such
		// resources, a configured one may still be wrong.
		return nil, false
	}
	return c, true
}

// Package controller delivers claim statuses to the collector: a typed
// rate-limited workqueue coalesces changes per claim, a single loop
// gathers them into batches, sends only what differs from what the
// collector last acknowledged, and retries a failed batch until it lands.
package controller

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/stuttgart-things/machinery-status-collector/agent/claim"
	"github.com/stuttgart-things/machinery-status-collector/agent/metrics"
	"github.com/stuttgart-things/machinery-status-collector/agent/sender"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// Source is the agent's view of the cluster: the informer caches.
type Source interface {
	// Get returns the cached claim for key, false when it is not cached.
	Get(key claim.Key) (*claim.Claim, bool)
	// Keys lists every cached claim.
	Keys() []claim.Key
}

// Sender posts one batch; *sender.Client implements it.
type Sender interface {
	Send(ctx context.Context, cluster string, records []status.Record) (sender.Result, error)
}

// Options configure a Controller. Zero values take the documented
// defaults.
type Options struct {
	Cluster       string
	BatchSize     int           // records per request, default 500, at most sender.MaxItems
	FlushInterval time.Duration // longest wait to fill a batch, default 1s
	ResyncPeriod  time.Duration // full re-send period (jittered ±10%), 0 = never
	Backoff       sender.Backoff
	Clock         clock.WithTicker // default real time
	Metrics       *metrics.Metrics // nil records nothing
	Logger        *slog.Logger     // default slog.Default()
}

// Controller owns the queue and the record of what the collector has
// acknowledged. Its event methods (Changed, Deleted) are safe for
// concurrent use by informer handlers.
type Controller struct {
	opts  Options
	src   Source
	snd   Sender
	log   *slog.Logger
	queue workqueue.TypedRateLimitingInterface[claim.Key]
	// wake is poked after every Add so a batch being gathered notices new
	// work without polling.
	wake chan struct{}
	// inFlight counts the keys taken from the queue and not yet done.
	inFlight atomic.Int64

	mu sync.Mutex
	// acked is the content hash of the record the collector last
	// acknowledged per claim: a change is sent only if it differs.
	acked map[claim.Key]uint64
	// gone holds the last state of deleted claims until their deletion
	// is acknowledged; the informer cache no longer has them.
	gone map[claim.Key]*claim.Claim
	// lastErr is the outcome of the latest request, for /readyz.
	lastErr error
}

// New returns a Controller reading claims from src and posting through snd.
func New(src Source, snd Sender, opts Options) *Controller {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	opts.BatchSize = min(opts.BatchSize, sender.MaxItems)
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	// The per-item limiter only paces claims the collector rejected
	// individually (a 400 naming them); collector-wide failures are
	// retried per batch with opts.Backoff.
	limiter := workqueue.NewTypedItemExponentialFailureRateLimiter[claim.Key](time.Second, 5*time.Minute)
	c := &Controller{
		opts: opts,
		src:  src,
		snd:  snd,
		log:  opts.Logger,
		// Unnamed: the queue stays off client-go's global metrics; the
		// agent exports its depth itself.
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(limiter,
			workqueue.TypedRateLimitingQueueConfig[claim.Key]{Clock: opts.Clock}),
		wake:  make(chan struct{}, 1),
		acked: map[claim.Key]uint64{},
		gone:  map[claim.Key]*claim.Claim{},
	}
	return c
}

// Changed queues key after its claim was added or its status changed.
// Repeated changes before the claim is sent coalesce into one send of the
// latest state. A change after a deletion means the claim was recreated:
// the unsent deletion is moot (the collector replaces on a new uid).
func (c *Controller) Changed(key claim.Key) {
	c.mu.Lock()
	delete(c.gone, key)
	c.mu.Unlock()
	c.add(key)
}

// Deleted queues key after its claim was deleted; last is its final known
// state (from the event or a tombstone), sent with deleted: true.
func (c *Controller) Deleted(key claim.Key, last *claim.Claim) {
	c.mu.Lock()
	c.gone[key] = last
	c.mu.Unlock()
	c.add(key)
}

// Resync forgets every acknowledgement and queues every cached and
// deleted-but-unsent claim, so the next batches re-send the whole state:
// a collector that lost its data (Redis wiped) heals within one period.
// It returns the number of claims queued.
func (c *Controller) Resync() int {
	c.mu.Lock()
	clear(c.acked)
	keys := make([]claim.Key, 0, len(c.gone))
	for k := range c.gone {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	keys = append(keys, c.src.Keys()...)
	for _, k := range keys {
		c.queue.Add(k)
	}
	c.poke()
	c.opts.Metrics.Resync()
	return len(keys)
}

// QueueLen is the number of claims waiting to be sent.
func (c *Controller) QueueLen() int { return c.queue.Len() }

// InFlight is the number of claims taken from the queue for the current
// batch and not yet acknowledged or given up.
func (c *Controller) InFlight() int { return int(c.inFlight.Load()) }

// LastSendErr is the error of the latest request, nil when it succeeded or
// none was made yet.
func (c *Controller) LastSendErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Run sends batches until ctx ends; it also runs the periodic resync. It
// returns after the queue is shut down and the batch in flight, if any,
// was abandoned.
func (c *Controller) Run(ctx context.Context) {
	go func() {
		<-ctx.Done()
		c.queue.ShutDown()
	}()
	go c.resyncLoop(ctx)
	for c.processNextBatch(ctx) {
	}
}

// add queues key and wakes the batch loop.
func (c *Controller) add(key claim.Key) {
	c.queue.Add(key)
	c.poke()
}

// poke wakes a batch loop waiting for more keys; it never blocks.
func (c *Controller) poke() {
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// resyncLoop calls Resync every ResyncPeriod ± 10%. The jitter spreads
// the resyncs of many agents that started together (a fleet rollout).
func (c *Controller) resyncLoop(ctx context.Context) {
	if c.opts.ResyncPeriod <= 0 {
		return
	}
	for {
		jitter := time.Duration((rand.Float64() - 0.5) * 0.2 * float64(c.opts.ResyncPeriod))
		t := c.opts.Clock.NewTimer(c.opts.ResyncPeriod + jitter)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		n := c.Resync()
		c.log.Info("full resync queued every claim", "claims", n)
	}
}

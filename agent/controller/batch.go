package controller

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/agent/claim"
	"github.com/stuttgart-things/machinery-status-collector/agent/metrics"
	"github.com/stuttgart-things/machinery-status-collector/agent/sender"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// item is one claim of a batch with the record built from its latest state.
type item struct {
	key  claim.Key
	rec  status.Record
	hash uint64
	// tomb is the deleted claim the record came from, nil for a live one.
	tomb *claim.Claim
}

// processNextBatch gathers one batch and delivers it. It returns false
// once the queue is shut down and drained.
func (c *Controller) processNextBatch(ctx context.Context) bool {
	keys, ok := c.nextBatch(ctx)
	if !ok {
		return false
	}
	c.deliver(ctx, keys)
	c.inFlight.Store(0)
	return true
}

// nextBatch blocks for a first key, then takes more until BatchSize keys
// are held or FlushInterval has passed since the first one. Every key it
// returns is "processing" in the queue: further changes to it are held
// back (and coalesced) until deliver marks it Done.
func (c *Controller) nextBatch(ctx context.Context) ([]claim.Key, bool) {
	first, shutdown := c.queue.Get()
	if shutdown {
		return nil, false
	}
	c.inFlight.Add(1)
	keys := make([]claim.Key, 1, min(c.opts.BatchSize, c.queue.Len()+1))
	keys[0] = first
	timer := c.opts.Clock.NewTimer(c.opts.FlushInterval)
	defer timer.Stop()
	for len(keys) < c.opts.BatchSize {
		// This loop is the queue's only consumer, so a positive Len
		// means Get returns at once.
		if c.queue.Len() > 0 {
			key, shutdown := c.queue.Get()
			if shutdown {
				break
			}
			c.inFlight.Add(1)
			keys = append(keys, key)
			continue
		}
		select {
		case <-c.wake:
		case <-timer.C():
			return keys, true
		case <-ctx.Done():
			return keys, true
		}
	}
	return keys, true
}

// deliver sends the claims of keys whose status differs from what the
// collector acknowledged, retrying until every one is acknowledged,
// rejected individually, or ctx ends. Each attempt rebuilds the records
// from the latest cached state, so a claim that changed while the
// collector was down is sent as it is now, not as it was.
func (c *Controller) deliver(ctx context.Context, keys []claim.Key) {
	pending := keys
	defer func() { c.done(pending) }()
	limit := len(pending) // shrinks when the collector finds a batch too large
	failures := 0
	for {
		var items []item
		items, pending = c.build(pending)
		if len(items) == 0 {
			return
		}
		n := min(limit, len(items))
		chunk := make([]status.Record, n)
		for i := range n {
			chunk[i] = items[i].rec
		}
		res, err := c.snd.Send(ctx, c.opts.Cluster, chunk)
		if err == nil {
			c.opts.Metrics.Send(metrics.ResultOK, res.Bytes)
			c.opts.Metrics.Items(res.Accepted, res.Unchanged, res.Stale)
			c.acknowledge(items[:n])
			c.done(pending[:n])
			pending = pending[n:]
			failures = 0
			c.setLastErr(nil)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		var se *sender.Error
		errors.As(err, &se)
		switch {
		case errors.Is(err, sender.ErrTooLarge) || (se != nil && se.StatusCode == http.StatusRequestEntityTooLarge):
			c.opts.Metrics.Send(metrics.ResultTooLarge, res.Bytes)
			if n > 1 {
				limit = n / 2
				c.log.Debug("batch too large for the collector, splitting", "items", n, "next", limit)
				continue
			}
			c.log.Error("collector refuses a single claim as too large; retrying it later",
				"claim", items[0].key.String(), "error", err)
			pending = c.reject(pending, 0)
			continue
		case se != nil && se.LimitReached():
			// Permanent until an operator acts: drop these claims, unacked,
			// so they go out again when they change or at the next resync,
			// instead of retrying the refused batch in a loop.
			c.opts.Metrics.Send(metrics.ResultRejected, res.Bytes)
			c.setLastErr(err)
			c.log.Error("collector is at its claim limit for this cluster; these claims are not stored until they change or the next resync",
				"collectorError", se.Message, "dropped", n,
				"hint", "raise INGEST_MAX_CLAIMS_PER_CLUSTER on the collector, or watch fewer claims")
			c.done(pending[:n])
			pending = pending[n:]
			continue
		case se != nil && se.StatusCode == http.StatusBadRequest && se.Item >= 0 && se.Item < n:
			// The batch is all-or-nothing: drop the claim the collector
			// named and resend the rest at once.
			c.opts.Metrics.Send(metrics.ResultRejected, res.Bytes)
			c.log.Error("collector rejected a claim's status; retrying it later with backoff",
				"claim", items[se.Item].key.String(), "error", se.Message)
			pending = c.reject(pending, se.Item)
			continue
		}
		failures++
		c.setLastErr(err)
		wait := c.failureDelay(err, se, failures, n, res.Bytes)
		if !c.sleep(ctx, wait) {
			return
		}
	}
}

// failureDelay logs a failed request and returns how long to wait before
// retrying it.
func (c *Controller) failureDelay(err error, se *sender.Error, failures, n, bytes int) time.Duration {
	switch {
	case se != nil && se.Auth():
		c.opts.Metrics.Send(metrics.ResultAuth, bytes)
		wait := c.opts.Backoff.Slow()
		hint := "the token is missing or unknown: set COLLECTOR_TOKEN or COLLECTOR_TOKEN_FILE to a token listed in the collector's INGEST_TOKENS"
		if se.StatusCode == http.StatusForbidden {
			hint = "the token is valid but not allowed to write cluster " + c.opts.Cluster + ": map it to this cluster (or *) in the collector's INGEST_TOKENS, or fix CLUSTER_NAME"
		}
		c.log.Error("collector refused the agent's credentials; statuses are kept and retried",
			"status", se.StatusCode, "collectorError", se.Message, "hint", hint,
			"pending", n, "retryIn", wait.Round(time.Millisecond))
		return wait
	case se != nil && !se.Retryable():
		// 400 without an item, 405, 415...: resending as is will not
		// help, but a collector upgrade might; keep the statuses.
		c.opts.Metrics.Send(metrics.ResultRejected, bytes)
		wait := c.opts.Backoff.Slow()
		c.log.Error("collector rejected the batch; statuses are kept and retried slowly",
			"status", se.StatusCode, "collectorError", se.Message, "pending", n, "retryIn", wait.Round(time.Millisecond))
		return wait
	default:
		c.opts.Metrics.Send(metrics.ResultRetry, bytes)
		var retryAfter time.Duration
		if se != nil {
			retryAfter = se.RetryAfter
		}
		wait := c.opts.Backoff.Delay(failures, retryAfter)
		c.log.Warn("collector unavailable; statuses are kept and retried",
			"error", err.Error(), "attempt", failures, "pending", n, "retryIn", wait.Round(time.Millisecond))
		return wait
	}
}

// build returns the items of keys that need sending (status differs from
// the acknowledged one) and their keys in the same order; keys that need
// nothing are marked Done here.
func (c *Controller) build(keys []claim.Key) ([]item, []claim.Key) {
	now := c.opts.Clock.Now().UTC().Format(time.RFC3339Nano)
	// Read the caches before taking c.mu: informer handlers take c.mu
	// (Deleted), and the Watcher may wait for them under its own lock.
	live := make([]*claim.Claim, len(keys))
	for i, k := range keys {
		live[i], _ = c.src.Get(k)
	}
	items := make([]item, 0, len(keys))
	var send, idle []claim.Key
	c.mu.Lock()
	for i, k := range keys {
		it, ok := c.itemLocked(k, live[i])
		if !ok {
			idle = append(idle, k)
			continue
		}
		if h, seen := c.acked[k]; seen && h == it.hash {
			idle = append(idle, k)
			continue
		}
		it.rec.ObservedAt = now
		items = append(items, it)
		send = append(send, k)
	}
	c.mu.Unlock()
	for _, k := range idle {
		c.queue.Forget(k)
		c.queue.Done(k)
	}
	return items, send
}

// itemLocked builds the record for k from its tombstone, else from its
// live claim (nil when not cached); false when the claim is unknown (its
// resource went away). A tombstone wins because it is newer than any live
// read: Changed clears it when the claim comes back. c.mu must be held.
func (c *Controller) itemLocked(k claim.Key, live *claim.Claim) (item, bool) {
	if tomb, ok := c.gone[k]; ok {
		rec := tomb.DeletedRecord(c.opts.Cluster)
		return item{key: k, rec: rec, hash: rec.ContentHash(), tomb: tomb}, true
	}
	if live != nil {
		rec := live.Record(c.opts.Cluster)
		return item{key: k, rec: rec, hash: rec.ContentHash()}, true
	}
	return item{}, false
}

// acknowledge records what the collector now holds. A deletion, once
// acknowledged, is forgotten entirely so deleted claims cost no memory.
func (c *Controller) acknowledge(items []item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range items {
		if it.tomb == nil {
			c.acked[it.key] = it.hash
			continue
		}
		delete(c.acked, it.key)
		// Only if no newer deletion of the same key arrived meanwhile.
		if c.gone[it.key] == it.tomb {
			delete(c.gone, it.key)
		}
	}
}

// reject gives up on pending[i] for now: the queue's per-item rate
// limiter brings it back later, alone with its backoff. It returns pending
// without it.
func (c *Controller) reject(pending []claim.Key, i int) []claim.Key {
	k := pending[i]
	c.queue.AddRateLimited(k)
	c.queue.Done(k)
	return append(pending[:i:i], pending[i+1:]...)
}

// done marks keys finished in the queue and resets their per-item backoff.
func (c *Controller) done(keys []claim.Key) {
	for _, k := range keys {
		c.queue.Forget(k)
		c.queue.Done(k)
	}
}

// setLastErr records the outcome of the latest request for /readyz.
func (c *Controller) setLastErr(err error) {
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
}

// sleep waits d or until ctx ends; false when ctx ended.
func (c *Controller) sleep(ctx context.Context, d time.Duration) bool {
	t := c.opts.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// maxMergedItems caps how many records one merged script call carries, so
// a queue of large batches cannot make one call block Redis for long.
const maxMergedItems = 1000

// maxSenders is how many merged calls may be in Redis at once. One merges
// the most: with 32 clients posting single statuses, a second sender was
// 3% slower (35k against 36k requests/s); batches do not queue here.
const maxSenders = 1

// soloItems is the size from which a write goes out alone, beside the
// merged calls: it already spreads a script call over many records, and
// queueing it behind others cost 500-record batches 6-8%.
const soloItems = 100

// committer merges concurrent writes into one script call (group commit).
// While maxSenders calls are in Redis, writes that arrive queue up; when
// one returns, its sender hands the queue to the first queued writer,
// which sends it as one call. Under load each request then costs Redis a
// share of a call instead of a call of its own; with no contention a write
// goes straight out, with no added wait.
//
// A merged call is one atomic script, so the writes in it succeed or fail
// together, and each write keeps its own outcomes.
type committer struct {
	mu    sync.Mutex
	busy  int // senders in Redis; at maxSenders new writes queue
	queue []*pending
}

// pending is a write waiting for a sender.
type pending struct {
	w     *write
	err   error
	lead  []*pending // set when this writer must send these (itself first)
	ready chan struct{}

	deadline    time.Time
	hasDeadline bool
}

// do sends w, alone or merged with writes queued beside it, and returns
// when w's result is in. Small writes share at most maxSenders calls at a
// time; a write of soloItems or more records is sent at once, alone.
func (c *committer) do(ctx context.Context, w *write, send func(context.Context, []*write) error) error {
	if len(w.items) >= soloItems {
		return send(ctx, []*write{w})
	}
	p := &pending{w: w, ready: make(chan struct{})}
	p.deadline, p.hasDeadline = ctx.Deadline()
	c.mu.Lock()
	if c.busy < maxSenders {
		c.busy++
		c.mu.Unlock()
		c.flush(ctx, []*pending{p}, send)
		return p.err
	}
	c.queue = append(c.queue, p)
	c.mu.Unlock()
	// No select on ctx: a queued write is sent within its sender's
	// deadline, and leaving early could strand the writes it must lead.
	<-p.ready
	if p.lead != nil {
		c.flush(ctx, p.lead, send)
	}
	return p.err
}

// flush sends batch, whose first write is the caller's own, passes the
// queue on, and wakes the batch's other writers.
func (c *committer) flush(ctx context.Context, batch []*pending, send func(context.Context, []*write) error) {
	// The batch carries other callers' writes: the sender's client hanging
	// up must not fail them, and the call may run until the last of their
	// deadlines (none if one of them has none).
	sctx := ctx
	if len(batch) > 1 {
		sctx = context.WithoutCancel(ctx)
		if dl, ok := lastDeadline(batch); ok {
			var cancel context.CancelFunc
			sctx, cancel = context.WithDeadline(sctx, dl)
			defer cancel()
		}
	}
	writes := make([]*write, len(batch))
	for i, p := range batch {
		writes[i] = p.w
	}
	// Deferred so that a panicking send still frees the committer and
	// every waiter before the panic goes on.
	err := errSendPanicked
	defer func() {
		c.handOff()
		for i, p := range batch {
			p.err = err
			if i > 0 {
				close(p.ready)
			}
		}
	}()
	err = send(sctx, writes)
}

var errSendPanicked = errors.New("write abandoned: the merged call panicked")

// lastDeadline is the latest deadline of batch's writers; false if one
// of them has none.
func lastDeadline(batch []*pending) (time.Time, bool) {
	var last time.Time
	for _, p := range batch {
		if !p.hasDeadline {
			return time.Time{}, false
		}
		if p.deadline.After(last) {
			last = p.deadline
		}
	}
	return last, true
}

// handOff makes the first queued writer the sender of the queue (up to
// maxMergedItems records), or marks the committer idle.
func (c *committer) handOff() {
	c.mu.Lock()
	if len(c.queue) == 0 {
		c.busy--
		c.mu.Unlock()
		return
	}
	n, items := 1, len(c.queue[0].w.items)
	for n < len(c.queue) && items+len(c.queue[n].w.items) <= maxMergedItems {
		items += len(c.queue[n].w.items)
		n++
	}
	next := make([]*pending, n)
	copy(next, c.queue)
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	c.mu.Unlock()
	next[0].lead = next
	close(next[0].ready)
}

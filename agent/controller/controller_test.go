package controller

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/agent/claim"
	"github.com/stuttgart-things/machinery-status-collector/agent/sender"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// source is an in-memory Source.
type source struct {
	mu sync.Mutex
	m  map[claim.Key]*claim.Claim
}

func newSource() *source { return &source{m: map[claim.Key]*claim.Claim{}} }

func (s *source) Get(k claim.Key) (*claim.Claim, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[k]
	return c, ok
}

func (s *source) Keys() []claim.Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]claim.Key, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	return keys
}

func (s *source) put(c *claim.Claim) claim.Key {
	k := claim.Key{Resource: "things.example.org", Namespace: c.Namespace, Name: c.Name}
	s.mu.Lock()
	s.m[k] = c
	s.mu.Unlock()
	return k
}

func (s *source) del(k claim.Key) *claim.Claim {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[k]
	delete(s.m, k)
	return c
}

func mkClaim(name, ready, msg string) *claim.Claim {
	c := &claim.Claim{Ready: claim.Condition{Status: ready, Message: msg}}
	c.APIVersion, c.Kind = "example.org/v1alpha1", "Thing"
	c.Namespace, c.Name, c.UID = "ns", name, "uid-"+"x"
	return c
}

// collector is a scriptable Sender that stores what it accepts.
type collector struct {
	mu       sync.Mutex
	fail     func(n int, recs []status.Record) error // nil = accept
	requests int
	stored   map[string]status.Record
	got      chan struct{}
}

func newCollector() *collector {
	return &collector{stored: map[string]status.Record{}, got: make(chan struct{}, 1000)}
}

func (c *collector) Send(_ context.Context, _ string, recs []status.Record) (sender.Result, error) {
	c.mu.Lock()
	c.requests++
	n := c.requests
	fail := c.fail
	c.mu.Unlock()
	defer func() { c.got <- struct{}{} }()
	if fail != nil {
		if err := fail(n, recs); err != nil {
			return sender.Result{}, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		c.stored[r.Key()] = r
	}
	return sender.Result{Accepted: len(recs)}, nil
}

func (c *collector) snapshot() (int, map[string]status.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]status.Record, len(c.stored))
	for k, v := range c.stored {
		m[k] = v
	}
	return c.requests, m
}

func (c *collector) setFail(f func(int, []status.Record) error) {
	c.mu.Lock()
	c.fail = f
	c.mu.Unlock()
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func start(t *testing.T, src Source, snd Sender, o Options) *Controller {
	t.Helper()
	if o.Cluster == "" {
		o.Cluster = "c1"
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = 20 * time.Millisecond
	}
	if o.Backoff.Base == 0 {
		o.Backoff = sender.Backoff{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond}
	}
	o.Logger = quiet()
	c := New(src, snd, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond) // poll interval, not synchronisation
	}
}

func TestBatchesInitialSync(t *testing.T) {
	src, col := newSource(), newCollector()
	var keys []claim.Key
	for i := range 250 {
		keys = append(keys, src.put(mkClaim(fmt.Sprintf("c%03d", i), "True", "")))
	}
	c := start(t, src, col, Options{BatchSize: 100, FlushInterval: 200 * time.Millisecond})
	for _, k := range keys {
		c.Changed(k)
	}
	eventually(t, 5*time.Second, "250 claims stored", func() bool { _, m := col.snapshot(); return len(m) == 250 })
	eventually(t, time.Second, "queue drained", func() bool { return c.QueueLen() == 0 })
	if n, _ := col.snapshot(); n != 3 {
		t.Fatalf("requests = %d, want 3 (250 claims in batches of 100)", n)
	}
	_, m := col.snapshot()
	r := m["ns/c007#Thing.example.org"]
	if r.StatusMessage != "Ready=True" || r.Ready != "True" || r.Cluster != "c1" || r.ObservedAt == "" {
		t.Fatalf("record = %+v", r)
	}
}

func TestSendsOnlyChanges(t *testing.T) {
	src, col := newSource(), newCollector()
	k := src.put(mkClaim("a", "False", "creating"))
	c := start(t, src, col, Options{})
	c.Changed(k)
	eventually(t, 2*time.Second, "first send", func() bool { n, _ := col.snapshot(); return n == 1 })

	// Same content again (a resync-like event): nothing to send.
	c.Changed(k)
	eventually(t, time.Second, "queue drained", func() bool { return c.QueueLen() == 0 })
	// Then a real change; if the repeat had been sent, this would be request 3.
	src.put(mkClaim("a", "True", "available"))
	c.Changed(k)
	eventually(t, 2*time.Second, "second send", func() bool { n, _ := col.snapshot(); return n >= 2 })
	n, m := col.snapshot()
	if n != 2 {
		t.Fatalf("requests = %d, want 2", n)
	}
	if got := m[k.Namespace+"/a#Thing.example.org"].StatusMessage; got != "available" {
		t.Fatalf("stored message %q, want available", got)
	}
}

func TestRetriesWithLatestStatus(t *testing.T) {
	src, col := newSource(), newCollector()
	k := src.put(mkClaim("a", "False", "v1"))
	down := true
	var mu sync.Mutex
	col.setFail(func(int, []status.Record) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return &sender.Error{StatusCode: http.StatusServiceUnavailable, Message: "redis down", Item: -1}
		}
		return nil
	})
	c := start(t, src, col, Options{})
	c.Changed(k)
	eventually(t, 2*time.Second, "two failed attempts", func() bool { n, _ := col.snapshot(); return n >= 2 })
	if c.LastSendErr() == nil {
		t.Fatal("LastSendErr = nil while the collector fails")
	}
	src.put(mkClaim("a", "True", "v2")) // changes while the collector is down
	c.Changed(k)
	mu.Lock()
	down = false
	mu.Unlock()
	eventually(t, 2*time.Second, "latest status stored", func() bool {
		_, m := col.snapshot()
		return m["ns/a#Thing.example.org"].StatusMessage == "v2"
	})
	eventually(t, time.Second, "ready again", func() bool { return c.LastSendErr() == nil })
}

func TestAuthErrorKeepsStatuses(t *testing.T) {
	src, col := newSource(), newCollector()
	k := src.put(mkClaim("a", "True", "ok"))
	var mu sync.Mutex
	allowed := false
	col.setFail(func(int, []status.Record) error {
		mu.Lock()
		defer mu.Unlock()
		if !allowed {
			return &sender.Error{StatusCode: http.StatusForbidden, Message: "token not allowed for cluster c1", Item: -1}
		}
		return nil
	})
	c := start(t, src, col, Options{})
	c.Changed(k)
	eventually(t, 2*time.Second, "refused attempt", func() bool { n, _ := col.snapshot(); return n >= 1 })
	mu.Lock()
	allowed = true // the operator fixed the token
	mu.Unlock()
	eventually(t, 2*time.Second, "stored after the fix", func() bool { _, m := col.snapshot(); return len(m) == 1 })
}

// A 409 (the cluster is at the collector's claim limit) drops the batch's
// claims after one request, without retrying; a later change sends again.
func TestClaimLimitIsNotRetried(t *testing.T) {
	src, col := newSource(), newCollector()
	k := src.put(mkClaim("a", "True", "ok"))
	col.setFail(func(n int, _ []status.Record) error {
		if n == 1 {
			return &sender.Error{StatusCode: http.StatusConflict, Message: "cluster c1 holds 2 claims; 1 new ones would exceed the limit of 2 claims per cluster", Item: -1}
		}
		return nil
	})
	c := start(t, src, col, Options{})
	c.Changed(k)
	eventually(t, 2*time.Second, "refused attempt", func() bool { n, _ := col.snapshot(); return n >= 1 })
	// Within many backoff periods (Base 5ms, Max 50ms) no retry comes.
	eventually(t, 2*time.Second, "claim dropped from the queue", func() bool { return c.QueueLen() == 0 && c.InFlight() == 0 })
	time.Sleep(200 * time.Millisecond) // observing absence: no retry may come in 4 Max backoffs
	if n, m := col.snapshot(); n != 1 || len(m) != 0 {
		t.Fatalf("after a 409: %d requests, %d stored; want 1 request and nothing stored", n, len(m))
	}
	src.put(mkClaim("a", "False", "changed"))
	c.Changed(k)
	eventually(t, 2*time.Second, "stored after a change", func() bool { _, m := col.snapshot(); return len(m) == 1 })
}

func TestRejectedItemDoesNotBlockOthers(t *testing.T) {
	src, col := newSource(), newCollector()
	var keys []claim.Key
	for _, n := range []string{"a", "bad", "c"} {
		keys = append(keys, src.put(mkClaim(n, "True", "")))
	}
	col.setFail(func(_ int, recs []status.Record) error {
		for i, r := range recs {
			if r.Name() == "bad" {
				return &sender.Error{StatusCode: http.StatusBadRequest, Message: fmt.Sprintf("items[%d].claimRef: nope", i), Item: i}
			}
		}
		return nil
	})
	c := start(t, src, col, Options{})
	for _, k := range keys {
		c.Changed(k)
	}
	eventually(t, 2*time.Second, "good claims stored", func() bool { _, m := col.snapshot(); return len(m) == 2 })
	_, m := col.snapshot()
	if _, ok := m["ns/bad#Thing.example.org"]; ok {
		t.Fatal("rejected claim stored")
	}
}

func TestSplitsTooLargeBatches(t *testing.T) {
	src, col := newSource(), newCollector()
	var keys []claim.Key
	for i := range 8 {
		keys = append(keys, src.put(mkClaim(fmt.Sprintf("c%d", i), "True", "")))
	}
	col.setFail(func(_ int, recs []status.Record) error {
		if len(recs) > 3 {
			return &sender.Error{StatusCode: http.StatusRequestEntityTooLarge, Message: "too large", Item: -1}
		}
		return nil
	})
	c := start(t, src, col, Options{BatchSize: 8, FlushInterval: 100 * time.Millisecond})
	for _, k := range keys {
		c.Changed(k)
	}
	eventually(t, 2*time.Second, "all stored", func() bool { _, m := col.snapshot(); return len(m) == 8 })
}

func TestDeleteSendsTombstone(t *testing.T) {
	src, col := newSource(), newCollector()
	k := src.put(mkClaim("a", "True", "fine"))
	c := start(t, src, col, Options{})
	c.Changed(k)
	eventually(t, 2*time.Second, "stored", func() bool { _, m := col.snapshot(); return len(m) == 1 })
	last := src.del(k)
	c.Deleted(k, last)
	eventually(t, 2*time.Second, "deletion stored", func() bool {
		_, m := col.snapshot()
		r := m["ns/a#Thing.example.org"]
		return r.Deleted && r.StatusMessage == "fine"
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.gone) != 0 || len(c.acked) != 0 {
		t.Fatalf("acknowledged deletion still tracked: gone=%d acked=%d", len(c.gone), len(c.acked))
	}
}

func TestRecreateBeforeSendWins(t *testing.T) {
	src, col := newSource(), newCollector()
	k := src.put(mkClaim("a", "True", "old"))
	col.setFail(func(int, []status.Record) error {
		return &sender.Error{StatusCode: http.StatusServiceUnavailable, Item: -1}
	})
	c := start(t, src, col, Options{})
	c.Deleted(k, src.del(k))
	fresh := mkClaim("a", "False", "new")
	fresh.UID = "uid-new"
	src.put(fresh)
	c.Changed(k)
	col.setFail(nil)
	eventually(t, 2*time.Second, "recreated claim stored", func() bool {
		_, m := col.snapshot()
		r := m["ns/a#Thing.example.org"]
		return r.UID == "uid-new" && !r.Deleted
	})
}

func TestResyncResendsEverything(t *testing.T) {
	src, col := newSource(), newCollector()
	var keys []claim.Key
	for i := range 30 {
		keys = append(keys, src.put(mkClaim(fmt.Sprintf("c%d", i), "True", "")))
	}
	c := start(t, src, col, Options{BatchSize: 10})
	for _, k := range keys {
		c.Changed(k)
	}
	eventually(t, 2*time.Second, "initial sync", func() bool { _, m := col.snapshot(); return len(m) == 30 })
	eventually(t, time.Second, "queue drained", func() bool { return c.QueueLen() == 0 })
	before, _ := col.snapshot()
	col.mu.Lock()
	clear(col.stored) // the collector lost its data
	col.mu.Unlock()
	if n := c.Resync(); n != 30 {
		t.Fatalf("Resync queued %d, want 30", n)
	}
	eventually(t, 2*time.Second, "restored", func() bool { _, m := col.snapshot(); return len(m) == 30 })
	eventually(t, time.Second, "queue drained", func() bool { return c.QueueLen() == 0 })
	if after, _ := col.snapshot(); after-before != 3 {
		t.Fatalf("resync took %d requests, want 3", after-before)
	}
}

func TestPeriodicResync(t *testing.T) {
	src, col := newSource(), newCollector()
	k := src.put(mkClaim("a", "True", ""))
	c := start(t, src, col, Options{ResyncPeriod: 50 * time.Millisecond})
	c.Changed(k)
	eventually(t, 2*time.Second, "three sends of one unchanged claim", func() bool { n, _ := col.snapshot(); return n >= 3 })
}

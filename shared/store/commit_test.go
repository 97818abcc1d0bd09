package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// gate is a send function that records each call and blocks it until the
// test releases it.
type gate struct {
	mu      sync.Mutex
	calls   [][]*write
	ctxs    []context.Context
	entered chan int
	release chan error
}

func newGate() *gate { return &gate{entered: make(chan int, 16), release: make(chan error)} }

func (g *gate) send(ctx context.Context, ws []*write) error {
	g.mu.Lock()
	g.calls = append(g.calls, ws)
	g.ctxs = append(g.ctxs, ctx)
	n := len(g.calls)
	g.mu.Unlock()
	g.entered <- n
	return <-g.release
}

// next waits for the next send to start and returns its number.
func (g *gate) next(t *testing.T) int {
	t.Helper()
	select {
	case n := <-g.entered:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no send started within 10s")
		return 0
	}
}

// result waits for one writer's result.
func result(t *testing.T, errs <-chan error) error {
	t.Helper()
	select {
	case err := <-errs:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("a writer did not return within 10s")
		return nil
	}
}

// occupy starts n writes and waits until each is in send; with n =
// maxSenders the writes after them queue.
func occupy(t *testing.T, c *committer, g *gate, errs chan<- error, n int) {
	t.Helper()
	for i := range n {
		go func() { errs <- c.do(context.Background(), writeOf(1, fmt.Sprint("busy", i)), g.send) }()
		g.next(t)
	}
}

func writeOf(n int, name string) *write {
	w := &write{receivedAt: name}
	for i := range n {
		w.items = append(w.items, item{cluster: name, key: fmt.Sprint(i)})
	}
	return w
}

// waitQueued polls until n writes are queued behind the sender.
func waitQueued(t *testing.T, c *committer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.queue)
		c.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCommitterMergesWritesThatQueue(t *testing.T) {
	var c committer
	g := newGate()
	errs := make(chan error, 8)
	occupy(t, &c, g, errs, maxSenders)
	// Three writes arrive while the senders are in Redis; each waits its turn.
	for i, name := range []string{"a", "b", "c"} {
		go func() { errs <- c.do(context.Background(), writeOf(1, name), g.send) }()
		waitQueued(t, &c, i+1)
	}
	g.release <- nil
	if n := g.next(t); n != maxSenders+1 {
		t.Fatalf("merged send is call %d", n)
	}
	// maxSenders sends are blocked now; exactly one of them fails, and
	// only the merged one holds three writes.
	for range maxSenders - 1 {
		g.release <- nil
	}
	g.release <- errors.New("boom")
	got := map[string]int{}
	for range maxSenders + 3 {
		if err := result(t, errs); err != nil {
			got[err.Error()]++
		} else {
			got["ok"]++
		}
	}
	// The busy writes succeeded; the merged call failed, so all three of
	// its writes (a, b, c) get its error, not only the one that sent it.
	if want := map[string]int{"ok": maxSenders, "boom": 3}; !maps.Equal(got, want) {
		t.Errorf("results %v, want %v: the writes of one call must fail together", got, want)
	}
	var names []string
	for _, w := range g.calls[maxSenders] {
		names = append(names, w.receivedAt)
	}
	if fmt.Sprint(names) != "[a b c]" {
		t.Errorf("merged call carried %v, want [a b c] in arrival order", names)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy != 0 || len(c.queue) != 0 {
		t.Errorf("committer not idle after the queue drained: %d busy, %d queued", c.busy, len(c.queue))
	}
}

func TestCommitterCapsMergedItems(t *testing.T) {
	var c committer
	g := newGate()
	errs := make(chan error, 16)
	occupy(t, &c, g, errs, maxSenders)
	// Eleven writes just under soloItems: ten fit under maxMergedItems,
	// the eleventh goes in the next call.
	size := soloItems - 1
	queued := maxMergedItems/size + 1
	for i := range queued {
		go func() { errs <- c.do(context.Background(), writeOf(size, fmt.Sprint(i)), g.send) }()
		waitQueued(t, &c, i+1)
	}
	for range 2 {
		g.release <- nil
		g.next(t)
	}
	for range maxSenders {
		g.release <- nil
	}
	for range maxSenders + queued {
		if err := result(t, errs); err != nil {
			t.Fatal(err)
		}
	}
	var per []int
	for _, call := range g.calls[maxSenders:] {
		n := 0
		for _, w := range call {
			n += len(w.items)
		}
		per = append(per, n)
	}
	if want := fmt.Sprint([]int{(queued - 1) * size, size}); fmt.Sprint(per) != want {
		t.Errorf("items per merged call %v, want %s", per, want)
	}
}

func TestCommitterSendsLargeWritesAlone(t *testing.T) {
	var c committer
	g := newGate()
	errs := make(chan error, 4)
	occupy(t, &c, g, errs, maxSenders)
	// Both senders are busy, yet a large write goes straight out.
	go func() { errs <- c.do(context.Background(), writeOf(soloItems, "large"), g.send) }()
	if n := g.next(t); n != maxSenders+1 {
		t.Fatalf("large write was send %d", n)
	}
	g.mu.Lock()
	alone := len(g.calls[maxSenders]) == 1 && g.calls[maxSenders][0].receivedAt == "large"
	g.mu.Unlock()
	if !alone {
		t.Error("large write did not go out alone")
	}
	for range maxSenders + 1 {
		g.release <- nil
	}
	for range maxSenders + 1 {
		if err := result(t, errs); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCommitterSenderHangingUpDoesNotFailOthers(t *testing.T) {
	var c committer
	g := newGate()
	errs := make(chan error, 8)
	occupy(t, &c, g, errs, maxSenders)
	leader, hangUp := context.WithCancel(context.Background())
	go func() { errs <- c.do(leader, writeOf(1, "leader"), g.send) }()
	waitQueued(t, &c, 1)
	other, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
	defer cancel()
	go func() { errs <- c.do(other, writeOf(1, "other"), g.send) }()
	waitQueued(t, &c, 2)
	hangUp()
	g.release <- nil
	g.next(t)
	g.mu.Lock()
	ctx := g.ctxs[maxSenders]
	g.mu.Unlock()
	if ctx.Err() != nil {
		t.Errorf("merged call's context is done (%v) because its sender hung up", ctx.Err())
	}
	if dl, ok := ctx.Deadline(); ok {
		t.Errorf("merged call has deadline %v; one writer had none", dl)
	}
	for range maxSenders {
		g.release <- nil
	}
	for range maxSenders + 2 {
		if err := result(t, errs); err != nil {
			t.Error(err)
		}
	}
}

func TestCommitterSurvivesPanickingSend(t *testing.T) {
	var c committer
	g, broken := newGate(), newGate()
	errs := make(chan error, 4)
	occupy(t, &c, g, errs, maxSenders-1)
	panics := make(chan any, 1)
	go func() {
		defer func() { panics <- recover() }()
		c.do(context.Background(), writeOf(1, "breaks"), func(ctx context.Context, ws []*write) error {
			broken.send(ctx, ws)
			panic("send broke")
		})
	}()
	broken.next(t)
	go func() { errs <- c.do(context.Background(), writeOf(1, "queued"), g.send) }()
	waitQueued(t, &c, 1)
	broken.release <- nil
	if v := <-panics; v != "send broke" {
		t.Fatalf("panic %v did not reach the sender", v)
	}
	g.next(t) // the queued write still gets sent
	for range maxSenders {
		g.release <- nil
	}
	for range maxSenders {
		if err := result(t, errs); err != nil {
			t.Fatal(err)
		}
	}
}

func TestApplyMergedWritesKeepTheirOwnOutcomes(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.Apply(ctx, "t", []status.Record{rec(t, "c1", "ns/a", "old", 5)}); err != nil {
		t.Fatal(err)
	}
	// Many concurrent writers: the committer merges some of them; each
	// must still see exactly its own outcomes.
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cluster := fmt.Sprintf("c%d", i%3+1)
			recs := []status.Record{rec(t, cluster, fmt.Sprintf("ns/w%d", i), "new", 9), rec(t, "c1", "ns/a", "older", 1)}
			res, err := s.Apply(ctx, "t", recs)
			if err != nil {
				t.Error(err)
				return
			}
			if string(res.Outcomes) != "as" || res.Accepted != 1 || res.Stale != 1 || res.Unchanged != 0 {
				t.Errorf("writer %d got %q %+v, want accepted then stale", i, res.Outcomes, res)
			}
		}()
	}
	wg.Wait()
	recs, err := s.AllRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 41 {
		t.Errorf("%d records stored, want 41", len(recs))
	}
}

func TestApplyEncodeErrorFailsOnlyItsCall(t *testing.T) {
	s, _ := newStore(t)
	bad := rec(t, "c1", "ns/bad", "x", 1)
	bad.Generation = -1
	if _, err := s.Apply(context.Background(), "t", []status.Record{bad}); err == nil {
		t.Fatal("a negative generation was stored")
	}
	if _, err := s.Apply(context.Background(), "t", []status.Record{rec(t, "c1", "ns/good", "x", 1)}); err != nil {
		t.Fatal(err)
	}
}

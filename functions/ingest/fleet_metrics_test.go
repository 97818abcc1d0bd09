package ingest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// fleetClock is a settable clock safe for concurrent scrapes.
type fleetClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fleetClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fleetClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fleetEnv struct {
	redis *redistest.Server
	store *store.Store
	clock *fleetClock
	reg   *prometheus.Registry
	log   *servertest.Buffer
}

func newFleetEnv(t *testing.T) *fleetEnv {
	t.Helper()
	r := redistest.Start(t)
	st := store.New(r.Client(), "")
	clock := &fleetClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	reg := prometheus.NewRegistry()
	logs := &servertest.Buffer{}
	reg.MustRegister(newFleetCollector(st, clock.now, 5*time.Second, slog.New(slog.NewTextHandler(logs, nil))))
	return &fleetEnv{redis: r, store: st, clock: clock, reg: reg, log: logs}
}

// apply stores one claim per ref of cluster, received at receivedAt;
// a ref ending in "!" is not ready, one ending in "-" is deleted.
func (e *fleetEnv) apply(t *testing.T, receivedAt, cluster string, refs ...string) {
	t.Helper()
	recs := make([]status.Record, 0, len(refs))
	for i, ref := range refs {
		r := status.Record{Cluster: cluster, ClaimRef: "ns/" + strings.TrimRight(ref, "!-"), StatusMessage: "m", Ready: "True",
			ObservedAt: time.Date(2026, 11, 25, 10, 0, i, 0, time.UTC).Format(time.RFC3339Nano)}
		switch {
		case strings.HasSuffix(ref, "!"):
			r.Ready = "False"
		case strings.HasSuffix(ref, "-"):
			r.Deleted = true
		}
		if err := r.Normalize("", time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if _, err := e.store.Apply(context.Background(), receivedAt, recs); err != nil {
		t.Fatal(err)
	}
}

// scrape returns the fleet series in the text format, sorted.
func (e *fleetEnv) scrape(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			b.WriteString(f.GetName())
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			if len(labels) > 0 {
				b.WriteString("{" + strings.Join(labels, ",") + "}")
			}
			b.WriteString(" " + strconv.FormatFloat(m.GetGauge().GetValue(), 'f', -1, 64) + "\n")
		}
	}
	return b.String()
}

// calls returns how often Redis ran cmd since the last CONFIG RESETSTAT.
func (e *fleetEnv) calls(t *testing.T, cmd string) int {
	t.Helper()
	info, err := e.redis.Client().Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`cmdstat_` + cmd + `:calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestFleetMetricsExactSeries(t *testing.T) {
	e := newFleetEnv(t)
	if got, want := e.scrape(t), "msc_fleet_last_read_timestamp_seconds 1795608000\nmsc_fleet_store_up 1\nmsc_store_generation 0\nmsc_store_reconciled_generation 0\n"; got != want {
		t.Fatalf("empty store:\n%s\nwant:\n%s", got, want)
	}
	e.apply(t, "2026-11-25T11:00:00Z", "cluster-a", "1", "2!", "3-", "4")
	e.apply(t, "2026-11-25T11:30:00.5Z", "cluster-b", "1!")
	ctx := context.Background()
	lease, err := e.store.Acquire(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.MarkReconciled(ctx, 1); err != nil {
		t.Fatal(err)
	}
	e.clock.add(5 * time.Second)
	want := `msc_cluster_claims{cluster=cluster-a,state=deleted} 1
msc_cluster_claims{cluster=cluster-a,state=not_ready} 1
msc_cluster_claims{cluster=cluster-a,state=ready} 2
msc_cluster_claims{cluster=cluster-b,state=deleted} 0
msc_cluster_claims{cluster=cluster-b,state=not_ready} 1
msc_cluster_claims{cluster=cluster-b,state=ready} 0
msc_cluster_last_seen_timestamp_seconds{cluster=cluster-a} 1795604400
msc_cluster_last_seen_timestamp_seconds{cluster=cluster-b} 1795606200.5
msc_fleet_last_read_timestamp_seconds 1795608005
msc_fleet_store_up 1
msc_store_generation 2
msc_store_reconciled_generation 1
`
	if got := e.scrape(t); got != want {
		t.Fatalf("scrape:\n%s\nwant:\n%s", got, want)
	}
	if problems, err := testutil.GatherAndLint(e.reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}

// Scrapes within the cache period, even concurrent ones, read the store
// once; the next period reads it again.
func TestFleetMetricsReadOncePerPeriod(t *testing.T) {
	e := newFleetEnv(t)
	e.apply(t, "2026-11-25T11:00:00Z", "cluster-a", "1")
	if err := e.redis.Client().ConfigResetStat(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	first := e.scrape(t)
	e.apply(t, "2026-11-25T11:00:01Z", "cluster-a", "2!")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := e.scrape(t); got != first {
				t.Errorf("cached scrape changed:\n%s\nwant:\n%s", got, first)
			}
		})
	}
	wg.Wait()
	e.clock.add(5*time.Second - time.Nanosecond)
	if got := e.scrape(t); got != first {
		t.Fatalf("scrape before the period ended changed:\n%s", got)
	}
	if n := e.calls(t, "mget"); n != 1 {
		t.Fatalf("10 scrapes in one period read the generations %d times, want 1", n)
	}
	e.clock.add(time.Nanosecond)
	if got := e.scrape(t); !strings.Contains(got, "msc_cluster_claims{cluster=cluster-a,state=not_ready} 1\n") {
		t.Fatalf("scrape of the next period misses the new claim:\n%s", got)
	}
	if n := e.calls(t, "mget"); n != 2 {
		t.Fatalf("next period: %d reads, want 2", n)
	}
}

// While Redis is down the last values stay, marked by msc_fleet_store_up 0,
// and a dead Redis is tried once per period; they refresh once it is back.
func TestFleetMetricsKeepLastValuesOnError(t *testing.T) {
	e := newFleetEnv(t)
	e.apply(t, "2026-11-25T11:00:00Z", "cluster-a", "1")
	good := e.scrape(t)
	e.redis.Stop()
	e.clock.add(5 * time.Second)
	start := time.Now()
	down := e.scrape(t)
	if want := strings.Replace(good, "msc_fleet_store_up 1", "msc_fleet_store_up 0", 1); down != want {
		t.Fatalf("scrape with Redis down:\n%s\nwant:\n%s", down, want)
	}
	// Within the period the failure is cached too: no second attempt.
	if again := e.scrape(t); again != down {
		t.Fatalf("second scrape in the failed period:\n%s", again)
	}
	if d := time.Since(start); d > fleetReadTimeout+2*time.Second {
		t.Fatalf("two scrapes with Redis down took %v", d)
	}
	if n := strings.Count(e.log.String(), "fleet metrics: read store"); n != 1 {
		t.Fatalf("two scrapes in one period tried Redis %d times, want 1:\n%s", n, e.log.String())
	}
	e.redis.Restart()
	e.apply(t, "2026-11-25T11:00:02Z", "cluster-b", "1")
	e.clock.add(5 * time.Second)
	if got := e.scrape(t); !strings.Contains(got, "msc_fleet_store_up 1\n") || !strings.Contains(got, "cluster=cluster-b") {
		t.Fatalf("scrape after Redis came back:\n%s", got)
	}
}

// A fresh store that never saw a cluster, read while Redis is down, has
// nothing to keep: only msc_fleet_store_up 0.
func TestFleetMetricsDownFromStart(t *testing.T) {
	e := newFleetEnv(t)
	e.redis.Stop()
	if got := e.scrape(t); got != "msc_fleet_store_up 0\n" {
		t.Fatalf("scrape:\n%s", got)
	}
}

// A Redis that accepts connections but never answers costs a scrape at
// most the read timeout, not a hung /metrics.
func TestFleetMetricsReadIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	clock := &fleetClock{t: time.Now()}
	c := newFleetCollector(store.New(rdb, ""), clock.now, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.timeout = 300 * time.Millisecond
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	start := time.Now()
	n, err := testutil.GatherAndCount(reg, "msc_fleet_store_up")
	if took := time.Since(start); err != nil || n != 1 || took > 2*time.Second {
		t.Fatalf("scrape of a silent Redis: %d series, %v, took %v (read timeout 300ms)", n, err, took)
	}
	if v := testutil.ToFloat64(c); v != 0 {
		t.Fatalf("msc_fleet_store_up = %v, want 0", v)
	}
	// The hung read still runs: the next period starts no second one.
	clock.add(time.Second)
	_, up := c.snapshot()
	c.mu.Lock()
	reading := c.reading
	c.mu.Unlock()
	mu.Lock()
	opened := len(conns)
	mu.Unlock()
	if up || !reading || opened != 1 {
		t.Fatalf("next period: up=%v reading=%v, %d connections; want a failure without a second read on one connection", up, reading, opened)
	}
}

// The Function registers the collector: /metrics carries the fleet series.
func TestFleetMetricsServed(t *testing.T) {
	e := newEnv(t, "")
	code, _, body := e.do("GET", "/metrics", "", "", "")
	if code != 200 || !strings.Contains(body, "msc_fleet_store_up 1\n") || !strings.Contains(body, "msc_store_generation 0\n") {
		t.Fatalf("GET /metrics = %d\n%s", code, body)
	}
}

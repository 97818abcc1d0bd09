package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// DefaultFleetCacheTTL is how long one read of the store serves scrapes.
const DefaultFleetCacheTTL = 5 * time.Second

// fleetReadTimeout bounds one read of the store for a scrape, well inside
// Prometheus' default 10s scrape timeout.
const fleetReadTimeout = 3 * time.Second

var (
	descClaims = prometheus.NewDesc("msc_cluster_claims",
		"Claims of a cluster in the store by state: ready, not_ready, deleted.", []string{"cluster", "state"}, nil)
	descLastSeen = prometheus.NewDesc("msc_cluster_last_seen_timestamp_seconds",
		"When the store last received a status from the cluster (Unix seconds).", []string{"cluster"}, nil)
	descGeneration = prometheus.NewDesc("msc_store_generation",
		"The store's generation: it grows with every accepted change.", nil, nil)
	descReconciled = prometheus.NewDesc("msc_store_reconciled_generation",
		"The last store generation the reconcile published into the pull request.", nil, nil)
	descStoreUp = prometheus.NewDesc("msc_fleet_store_up",
		"1 when the last read of the store for these fleet series succeeded, 0 when it failed.", nil, nil)
	descReadAt = prometheus.NewDesc("msc_fleet_last_read_timestamp_seconds",
		"When the fleet series were last read from the store successfully (Unix seconds).", nil, nil)
)

// fleetSnapshot is one successful read of the store.
type fleetSnapshot struct {
	sums            []store.Summary
	gen, reconciled int64
	at              time.Time
}

// fleetCollector exports the fleet as seen by the store: claims per cluster
// and state, each cluster's last contact and the store's generations.
//
// Bounded: a scrape reads the store at most once per ttl, however many
// scrapes arrive (concurrent scrapes wait for the one read in flight), and
// waits for a read at most fleetReadTimeout; at most one read runs at a
// time, even one past its timeout. Memory is one Summary per cluster
// (never per claim). A failed read also counts as the period's read, so a
// dead Redis is not hammered by scrapes.
//
// On a failed read the collector keeps serving the last good values, with
// msc_fleet_store_up 0: last-seen timestamps keep ageing, so the
// agent-silent alert still fires during a Redis outage instead of
// resolving because the series vanished.
type fleetCollector struct {
	st  *store.Store
	now func() time.Time
	ttl time.Duration
	log *slog.Logger
	// timeout bounds one read of the store (fleetReadTimeout).
	timeout time.Duration

	mu       sync.Mutex
	readAt   time.Time // last read attempt; zero before the first
	last     *fleetSnapshot
	lastFail bool
	reading  bool // a read runs, maybe past its timeout
}

// newFleetCollector returns a collector reading st at most once per ttl
// (DefaultFleetCacheTTL when ttl <= 0), timed by now; failed reads are
// logged to log.
func newFleetCollector(st *store.Store, now func() time.Time, ttl time.Duration, log *slog.Logger) *fleetCollector {
	if ttl <= 0 {
		ttl = DefaultFleetCacheTTL
	}
	return &fleetCollector{st: st, now: now, ttl: ttl, log: log, timeout: fleetReadTimeout}
}

// Describe sends the descriptors of every fleet series.
func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descClaims, descLastSeen, descGeneration, descReconciled, descStoreUp, descReadAt} {
		ch <- d
	}
}

// Collect sends the fleet series, reading the store first when the cached
// read is older than the ttl.
func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	snap, up := c.snapshot()
	ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, boolFloat(up))
	if snap == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descReadAt, prometheus.GaugeValue, unixSeconds(snap.at))
	ch <- prometheus.MustNewConstMetric(descGeneration, prometheus.GaugeValue, float64(snap.gen))
	ch <- prometheus.MustNewConstMetric(descReconciled, prometheus.GaugeValue, float64(snap.reconciled))
	for _, s := range snap.sums {
		for _, st := range []struct {
			name string
			n    int64
		}{{"ready", s.Ready}, {"not_ready", s.NotReady}, {"deleted", s.Deleted}} {
			ch <- prometheus.MustNewConstMetric(descClaims, prometheus.GaugeValue, float64(st.n), s.Cluster, st.name)
		}
		// A cluster whose last-seen time does not parse (written by a
		// foreign tool) gets no timestamp rather than a misleading 0.
		if t, err := time.Parse(time.RFC3339Nano, s.LastSeen); err == nil {
			ch <- prometheus.MustNewConstMetric(descLastSeen, prometheus.GaugeValue, unixSeconds(t), s.Cluster)
		}
	}
}

// snapshot returns the last good read and whether the latest attempt
// succeeded, reading the store when the latest attempt is older than ttl.
// The read runs aside and is waited for at most c.timeout, since the Redis
// client's dial and handshake do not all honour the context; while a
// timed-out read still runs, no second one starts.
func (c *fleetCollector) snapshot() (*fleetSnapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.readAt.IsZero() && now.Sub(c.readAt) < c.ttl {
		return c.last, !c.lastFail
	}
	c.readAt = now
	if c.reading {
		c.lastFail = true
		c.log.Warn("fleet metrics: read store", "err", "the previous read has not returned yet")
		return c.last, false
	}
	c.reading = true
	type result struct {
		snap *fleetSnapshot
		err  error
	}
	done := make(chan result, 1)
	go func() {
		snap, err := c.read(now)
		done <- result{snap, err}
	}()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	var r result
	select {
	case r = <-done:
		c.reading = false
	case <-timer.C:
		// Let the read finish on its own; its result is stale by then.
		go func() {
			<-done
			c.mu.Lock()
			c.reading = false
			c.mu.Unlock()
		}()
		r.err = fmt.Errorf("no answer within %s", c.timeout)
	}
	if r.err != nil {
		c.lastFail = true
		c.log.Warn("fleet metrics: read store", "err", r.err)
		return c.last, false
	}
	c.last, c.lastFail = r.snap, false
	return r.snap, true
}

// read reads the summaries and generations once, within c.timeout.
func (c *fleetCollector) read(now time.Time) (*fleetSnapshot, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	sums, err := c.st.Summaries(ctx)
	if err != nil {
		return nil, err
	}
	gen, rec, err := c.st.Generations(ctx)
	if err != nil {
		return nil, err
	}
	return &fleetSnapshot{sums: sums, gen: gen, reconciled: rec, at: now}, nil
}

// boolFloat is 1 for true, 0 for false: a gauge's truth value.
func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// unixSeconds is t in Unix seconds with sub-second precision.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

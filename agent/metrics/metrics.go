// Package metrics defines the agent's Prometheus metrics on a registry of
// its own, so nothing else in the process (client-go's global metrics)
// leaks into /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// Send results, the values of the result label of sends_total.
const (
	ResultOK       = "ok"        // 200
	ResultRetry    = "retry"     // transport error, 408, 429, 5xx
	ResultAuth     = "auth"      // 401, 403
	ResultRejected = "rejected"  // other 4xx
	ResultTooLarge = "too_large" // split and resent
)

// Metrics are the agent's instruments. A nil *Metrics is valid and
// records nothing, which keeps tests and benchmarks free of setup.
type Metrics struct {
	Registry *prometheus.Registry

	sends     *prometheus.CounterVec
	items     *prometheus.CounterVec
	bytes     prometheus.Counter
	resyncs   prometheus.Counter
	events    *prometheus.CounterVec
	lastOK    prometheus.Gauge
	informers prometheus.Gauge
}

// New registers the instruments plus Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "machinery_agent_sends_total",
			Help: "Batch requests to the collector by result (ok, retry, auth, rejected, too_large).",
		}, []string{"result"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "machinery_agent_items_total",
			Help: "Status records acknowledged by the collector, by its verdict (accepted, unchanged, stale).",
		}, []string{"verdict"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "machinery_agent_sent_bytes_total",
			Help: "Request body bytes sent to the collector.",
		}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "machinery_agent_resyncs_total",
			Help: "Full resyncs that re-sent every watched claim.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "machinery_agent_events_total",
			Help: "Informer events by kind: add, update, delete, and unchanged (updates without a status change, dropped).",
		}, []string{"event"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "machinery_agent_last_send_ok",
			Help: "1 when the last batch request succeeded (or none failed yet), else 0.",
		}),
		informers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "machinery_agent_watched_resources",
			Help: "Claim resources (GVRs) with a running informer.",
		}),
	}
	m.lastOK.Set(1)
	m.Registry.MustRegister(m.sends, m.items, m.bytes, m.resyncs, m.events, m.lastOK, m.informers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{ResultOK, ResultRetry, ResultAuth, ResultRejected, ResultTooLarge} {
		m.sends.WithLabelValues(r) // export zeros so rate() works from the start
	}
	return m
}

// Gauges registers the sampled gauges: queue depth and claims watched.
// Call it once, when the queue and the watcher exist.
func (m *Metrics) Gauges(queueDepth, claimsWatched func() int) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "machinery_agent_queue_depth",
			Help: "Claims waiting in the work queue to be sent.",
		}, func() float64 { return float64(queueDepth()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "machinery_agent_claims_watched",
			Help: "Claims in the informer caches.",
		}, func() float64 { return float64(claimsWatched()) }),
	)
}

// Send counts one batch request with its result and body size.
func (m *Metrics) Send(result string, bytes int) {
	if m == nil {
		return
	}
	m.sends.WithLabelValues(result).Inc()
	m.bytes.Add(float64(bytes))
	if result == ResultOK {
		m.lastOK.Set(1)
	} else if result != ResultTooLarge {
		m.lastOK.Set(0)
	}
}

// Items counts the collector's verdicts on an acknowledged batch.
func (m *Metrics) Items(accepted, unchanged, stale int) {
	if m == nil {
		return
	}
	m.items.WithLabelValues("accepted").Add(float64(accepted))
	m.items.WithLabelValues("unchanged").Add(float64(unchanged))
	m.items.WithLabelValues("stale").Add(float64(stale))
}

// Informer event kinds, the values of the event label of events_total.
const (
	EventAdd       = "add"
	EventUpdate    = "update"
	EventUnchanged = "unchanged"
	EventDelete    = "delete"
)

// Event counts one informer event of kind.
func (m *Metrics) Event(kind string) {
	if m == nil {
		return
	}
	m.events.WithLabelValues(kind).Inc()
}

// EventCount is the number of events of kind so far; tests and
// benchmarks read it.
func (m *Metrics) EventCount(kind string) int {
	if m == nil {
		return 0
	}
	return int(counterValue(m.events.WithLabelValues(kind)))
}

// Resync counts one full resync.
func (m *Metrics) Resync() {
	if m == nil {
		return
	}
	m.resyncs.Inc()
}

// Informers sets the number of running informers.
func (m *Metrics) Informers(n int) {
	if m == nil {
		return
	}
	m.informers.Set(float64(n))
}

// counterValue reads a counter's current value.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

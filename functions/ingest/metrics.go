package ingest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// metrics are the function's Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	statuses *prometheus.CounterVec
	batch    prometheus.Histogram

	// The outcome counters, resolved once: they move on every write.
	accepted, unchanged, stale prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "msc_ingest_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "msc_ingest_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 10),
		}, []string{"route"}),
		statuses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "msc_ingest_statuses_total", Help: "Status records by outcome: accepted, unchanged, stale.",
		}, []string{"outcome"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "msc_ingest_batch_items", Help: "Items per batch request.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 6),
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.statuses, m.batch)
	m.accepted = m.statuses.WithLabelValues("accepted")
	m.unchanged = m.statuses.WithLabelValues("unchanged")
	m.stale = m.statuses.WithLabelValues("stale")
	return m
}

// route returns the recorder of one route's requests.
func (m *metrics) route(name string) routeMetrics {
	return routeMetrics{m: m, name: name, duration: m.duration.WithLabelValues(name)}
}

// routeMetrics records one route's requests; its duration series is
// resolved once, the code label per request.
type routeMetrics struct {
	m        *metrics
	name     string
	duration prometheus.Observer
}

func (r routeMetrics) observe(code int, d time.Duration) {
	r.m.requests.WithLabelValues(r.name, strconv.Itoa(code)).Inc()
	r.duration.Observe(d.Seconds())
}

func (m *metrics) outcomes(res store.Result) {
	for _, o := range []struct {
		c prometheus.Counter
		n int
	}{{m.accepted, res.Accepted}, {m.unchanged, res.Unchanged}, {m.stale, res.Stale}} {
		if o.n > 0 {
			o.c.Add(float64(o.n))
		}
	}
}

// newInFlightMetrics registers the gauge of body bytes reserved by writes
// in flight (read at scrape time) and returns the counter of writes the
// cap refused.
func newInFlightMetrics(reg prometheus.Registerer, f *Function) prometheus.Counter {
	refused := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "msc_ingest_inflight_refused_total",
		Help: "Writes answered 503 because their body would take the bytes in flight past INGEST_MAX_INFLIGHT_BYTES.",
	})
	bytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "msc_ingest_inflight_bytes",
		Help: "Request body bytes reserved by writes being served, against INGEST_MAX_INFLIGHT_BYTES.",
	}, func() float64 { return float64(f.inFlight.Load()) })
	reg.MustRegister(refused, bytes)
	return refused
}

func (f *Function) metricsHandler() http.Handler {
	g := f.opts.Gatherer
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

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
	return m
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) outcomes(res store.Result) {
	m.statuses.WithLabelValues("accepted").Add(float64(res.Accepted))
	m.statuses.WithLabelValues("unchanged").Add(float64(res.Unchanged))
	m.statuses.WithLabelValues("stale").Add(float64(res.Stale))
}

func (f *Function) metricsHandler() http.Handler {
	g := f.opts.Gatherer
	if g == nil {
		g = prometheus.DefaultGatherer
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

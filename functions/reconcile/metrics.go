package reconcile

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the reconcile's Prometheus series.
type Metrics struct {
	runs     *prometheus.CounterVec
	calls    *prometheus.CounterVec
	duration prometheus.Histogram
	lag      prometheus.Gauge
	commits  *prometheus.CounterVec
}

// NewMetrics registers the series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "msc_reconcile_runs_total", Help: "Reconcile runs by outcome.",
		}, []string{"outcome"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "msc_reconcile_github_calls_total", Help: "GitHub API calls by endpoint and status (0: network error).",
		}, []string{"endpoint", "status"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "msc_reconcile_duration_seconds", Help: "Reconcile run duration.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "msc_reconcile_pending_generations", Help: "Store generations not yet in the pull request after the last run.",
		}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "msc_reconcile_commits_total", Help: "Commits made, by GitHub's verification (verified true/false) and its reason.",
		}, []string{"verified", "reason"}),
	}
	reg.MustRegister(m.runs, m.calls, m.duration, m.lag, m.commits)
	return m
}

// OnCall counts one GitHub call; pass it to the publisher's Options.OnCall.
func (m *Metrics) OnCall(endpoint string, status int) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
}

func (m *Metrics) observe(r Result, d time.Duration) {
	if m == nil {
		return
	}
	outcome := r.Outcome
	if r.Reason != "" {
		outcome += ":" + r.Reason
	}
	m.runs.WithLabelValues(outcome).Inc()
	if r.Verified != nil {
		m.commits.WithLabelValues(strconv.FormatBool(*r.Verified), r.VerificationReason).Inc()
	}
	m.duration.Observe(d.Seconds())
	if r.Outcome != OutcomeFailed || r.Generation != 0 {
		m.lag.Set(float64(r.pendingAfterward))
	}
}

// Package health serves the agent's probe and metrics endpoints.
package health

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stuttgart-things/machinery-status-collector/shared/httpserver"
)

// Handler serves GET /healthz (200 while the process serves requests),
// GET /readyz (200 when ready returns nil, else 503 with the reason) and
// GET /metrics from reg.
func Handler(ready func() error, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// Server builds the probe server for h with the bounds on slow and idle
// clients every server of the project has: cfg is the agent's HTTP_*
// settings, read and checked with the rest of its configuration
// (agent/config), so --help lists them and a bad value is reported with
// every other problem.
func Server(h http.Handler, cfg httpserver.Config, log *slog.Logger) *httpserver.Server {
	return httpserver.New("agent", h, cfg, log, nil)
}

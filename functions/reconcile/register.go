package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stuttgart-things/machinery-status-collector/shared/bootstrap"
)

// FunctionTarget is the name functions-framework serves this function under.
const FunctionTarget = "reconcile"

func init() {
	functions.CloudEvent(FunctionTarget, handleEvent)
}

var (
	defaultOnce sync.Once
	defaultFn   *Function
	defaultErr  error
)

// Default builds, once, the Function that functions-framework serves and
// --once runs, from the process environment.
func Default() (*Function, error) {
	defaultOnce.Do(func() {
		p, err := bootstrap.FromEnv("reconcile", ConfigFromEnv, func(c Config) (string, string) { return c.RedisURL, c.KeyPrefix })
		if err != nil {
			defaultErr = err
			return
		}
		defaultFn, defaultErr = FromConfig(p.Config, p.Store, p.Log, prometheus.DefaultRegisterer)
		if defaultErr == nil && p.Config.MetricsPort != 0 {
			go serveMetrics(p.Config.MetricsPort, p.Log)
		}
	})
	return defaultFn, defaultErr
}

// serveMetrics serves the default registry's /metrics on port until the
// process ends; a failure to listen is logged, not fatal.
func serveMetrics(port int, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	srv := &http.Server{Addr: fmt.Sprintf(":%d", port), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving /metrics", "port", port)
	if err := srv.ListenAndServe(); err != nil {
		log.Error("metrics server stopped", "err", err)
	}
}

// handleEvent runs one reconcile per CloudEvent (a PingSource tick, or any
// POST with CloudEvent headers). A failed run returns its error, so the
// event source sees a failure; a skipped run is a success.
func handleEvent(ctx context.Context, e event.Event) error {
	f, err := Default()
	if err != nil {
		return err
	}
	_, err = f.Run(ctx)
	return err
}

// ServeHTTP runs one reconcile now and answers with its result JSON: 200
// when it succeeded or was skipped, 500 when it failed.
func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMethodNotAllowed)
		io.WriteString(w, `{"error":"use POST to run a reconcile"}`+"\n")
		return
	}
	res, err := f.Run(r.Context())
	code := http.StatusOK
	if err != nil {
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(res)
}

// Once runs a single reconcile for a CronJob, writes the result JSON to
// out and returns the exit code: 0 on success or skip, 1 on failure, 2 on
// bad configuration.
func Once(ctx context.Context, out io.Writer) int {
	f, err := Default()
	if err != nil {
		fmt.Fprintln(out, err)
		return 2
	}
	res, err := f.Run(ctx)
	json.NewEncoder(out).Encode(res)
	if err != nil {
		return 1
	}
	return 0
}

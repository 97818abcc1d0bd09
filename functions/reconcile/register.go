package reconcile

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stuttgart-things/machinery-status-collector/shared/bootstrap"
	"github.com/stuttgart-things/machinery-status-collector/shared/buildinfo"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/httpserver"
)

// FunctionTarget is the name functions-framework serves this function under.
const FunctionTarget = "reconcile"

// writeMargin is how long past RECONCILE_TIMEOUT a run's answer may take
// to write: a run outlives HTTP_WRITE_TIMEOUT by design.
const writeMargin = 30 * time.Second

func init() {
	functions.CloudEvent(FunctionTarget, handleEvent)
}

var (
	defaultOnce sync.Once
	defaultProc bootstrap.Process[Config]
	defaultFn   *Function
	defaultErr  error
)

// Default builds, once, the Function that functions-framework serves and
// --once runs, from the process environment. With the local publisher and
// RECONCILE_WARMUP unset there is no warm-up: it protects a real pull
// request from a partial store, and a local folder needs no protection.
func Default() (*Function, error) {
	defaultOnce.Do(func() {
		p, err := bootstrap.FromEnv(FunctionTarget, readConfig, func(c Config) (string, string) { return c.RedisURL, c.KeyPrefix })
		if err != nil {
			defaultErr = err
			return
		}
		defaultProc = p
		if n := setMemoryLimit(p.Config.MemoryLimit); n > 0 {
			p.Log.Debug("reconcile: soft memory limit", "bytes", n)
		}
		defaultFn, defaultErr = FromConfig(p.Config, p.Store, p.Log, prometheus.DefaultRegisterer)
		if defaultErr == nil && p.Config.MetricsPort != 0 {
			go serveMetrics(p.Config.MetricsPort, p.HTTP, p.Log)
		}
	})
	return defaultFn, defaultErr
}

// readConfig is ConfigFromEnv with the local publisher's warm-up default.
func readConfig(e *config.Env) Config {
	c := ConfigFromEnv(e)
	if e.Get("RECONCILE_WARMUP") == "" && !c.Publish.UseGitHub() {
		c.Warmup = 0
	}
	return c
}

// Main is the reconcile command: with --once one run whose result JSON
// goes to out, else the function served on PORT until ctx ends (SIGTERM).
// It returns the exit code: 0 success or skip, 1 failure, 2 bad
// configuration or arguments.
func Main(ctx context.Context, args []string, out io.Writer) int {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	once := fs.Bool("once", false, "run one reconcile, print its result JSON, exit non-zero on failure")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *once {
		return Once(ctx, out)
	}
	f, err := Default()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	h, err := f.EventHandler(ctx)
	if err != nil {
		defaultProc.Log.Error("reconcile: serve", "err", err)
		return 1
	}
	if err := defaultProc.Serve(ctx, h, defaultProc.Config.mode()...); err != nil {
		defaultProc.Log.Error("reconcile: serve", "err", err)
		return 1
	}
	return 0
}

// mode says, for the start line, where runs publish and how long a fresh
// store is held back.
func (c Config) mode() []any {
	pub := "local folder " + c.Publish.LocalDir
	if c.Publish.UseGitHub() {
		pub = "GitHub " + c.Publish.Owner + "/" + c.Publish.Repo
	}
	return []any{"publisher", pub, "warmup", c.Warmup.String(), "metricsPort", c.MetricsPort}
}

// serveMetrics serves the default registry's /metrics on port, within
// the same HTTP_* bounds as the function, until the process ends; a
// failure to listen is logged, not fatal.
func serveMetrics(port int, cfg httpserver.Config, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	srv := httpserver.New("reconcile-metrics", mux, cfg, log, nil)
	log.Info("serving /metrics", "port", port)
	if err := srv.ListenAndServe(context.Background(), fmt.Sprintf(":%d", port), nil); err != nil {
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
	return f.onEvent(ctx, e)
}

// onEvent is handleEvent for f.
func (f *Function) onEvent(ctx context.Context, _ event.Event) error {
	_, err := f.Run(ctx)
	return err
}

// notCloudEvent is the answer to a request that is not a CloudEvent.
var notCloudEvent = map[string]string{
	"error": "not a CloudEvent: a reconcile is triggered by a POST carrying the CloudEvent headers Ce-Id, Ce-Specversion, Ce-Type and Ce-Source (binary mode) or a Content-Type of application/cloudevents+json",
	"hint":  "curl -X POST http://HOST/ -H 'Ce-Id: manual-1' -H 'Ce-Specversion: 1.0' -H 'Ce-Type: dev.knative.sources.ping' -H 'Ce-Source: manual'",
}

// EventHandler is f as functions-framework serves a CloudEvent function,
// plus what a probe and a lost human need: a CloudEvent POST runs one
// reconcile (an error answers 5xx), GET /healthz answers 200, and any
// other request a JSON 400 naming what is missing.
func (f *Function) EventHandler(ctx context.Context) (http.Handler, error) {
	p, err := cloudevents.NewHTTP()
	if err != nil {
		return nil, fmt.Errorf("cloudevents protocol: %w", err)
	}
	ce, err := cloudevents.NewHTTPReceiveHandler(ctx, p, f.onEvent)
	if err != nil {
		return nil, fmt.Errorf("cloudevents handler: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !isCloudEvent(r) {
			writeJSON(w, http.StatusBadRequest, notCloudEvent)
			return
		}
		httpserver.ExtendWrite(w, f.opts.Timeout+writeMargin)
		ce.ServeHTTP(w, r)
	})
	return mux, nil
}

// isCloudEvent reports whether r is a POST in CloudEvents' binary mode
// (Ce-Specversion header) or structured mode (application/cloudevents...).
func isCloudEvent(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	if r.Header.Get("Ce-Specversion") != "" {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return strings.HasPrefix(mt, "application/cloudevents")
}

// writeJSON answers code with v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// ServeHTTP runs one reconcile now and answers with its result JSON: 200
// when it succeeded or was skipped, 500 when it failed.
func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST to run a reconcile"})
		return
	}
	httpserver.ExtendWrite(w, f.opts.Timeout+writeMargin)
	res, err := f.Run(r.Context())
	code := http.StatusOK
	if err != nil {
		code = http.StatusInternalServerError
	}
	writeJSON(w, code, res)
}

// Once runs a single reconcile for a CronJob, writes the result JSON to
// out and returns the exit code: 0 on success or skip, 1 on failure, 2 on
// bad configuration. It logs one start line first.
func Once(ctx context.Context, out io.Writer) int {
	f, err := Default()
	if err != nil {
		fmt.Fprintln(out, err)
		return 2
	}
	defaultProc.Log.Info("reconcile --once starting", append(defaultProc.Config.mode(), buildinfo.Attrs()...)...)
	res, err := f.Run(ctx)
	json.NewEncoder(out).Encode(res)
	if err != nil {
		return 1
	}
	return 0
}

// Package collector runs the whole system in one process for local use:
// the ingest API and POST /reconcile on one port, backed by Redis (an
// embedded in-process Redis when REDIS_URL is unset), with a ticker
// standing in for the PingSource.
package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/functions/ingest"
	"github.com/stuttgart-things/machinery-status-collector/functions/reconcile"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/logging"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Config is the local run's environment.
type Config struct {
	Port      int // COLLECTOR_PORT
	Ingest    ingest.Config
	Reconcile *reconcile.Config // nil: no registry configured, reconcile off
	// Interval is COLLECTOR_RECONCILE_INTERVAL, the ticker's period.
	Interval time.Duration
}

// --help lists what ConfigFromEnv reads.
var _ = config.Register(ConfigFromEnv)

// ConfigFromEnv reads the collector's variables, recording problems in e.
// Reconcile is configured only when REGISTRY_FILE_PATH or GitHub
// credentials are set, so `make run` works with no settings at all.
func ConfigFromEnv(e *config.Env) Config {
	c := Config{
		Port:     e.Int("COLLECTOR_PORT", 8095, 1, 65535),
		Ingest:   ingest.ConfigFromEnv(e),
		Interval: e.Duration("COLLECTOR_RECONCILE_INTERVAL", 5*time.Minute, time.Second),
	}
	store.CheckURL(e, c.Ingest.RedisURL)
	if e.Get("REGISTRY_FILE_PATH") != "" || e.Get("GITHUB_TOKEN") != "" || e.Get("GITHUB_APP_ID") != "" {
		rc := reconcile.ConfigFromEnv(e)
		if e.Get("RECONCILE_WARMUP") == "" {
			// One process, no agents to wait for: reconcile at once.
			rc.Warmup = 0
		}
		c.Reconcile = &rc
	}
	return c
}

// Collector is the local process: its HTTP server and what it owns.
type Collector struct {
	cfg      Config
	log      *slog.Logger
	server   *http.Server
	embedded *miniredis.Miniredis // nil when REDIS_URL is set
	rdb      redis.UniversalClient
	rec      *reconcile.Function // nil when reconcile is off
}

// New builds the collector from cfg. Without a Redis URL it starts an
// embedded in-process Redis, which keeps data only while the process runs.
func New(cfg Config, log *slog.Logger) (*Collector, error) {
	c := &Collector{cfg: cfg, log: log}
	url := cfg.Ingest.RedisURL
	if url == "" {
		m, err := miniredis.Run()
		if err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		c.embedded = m
		url = "redis://" + m.Addr()
		log.Info("REDIS_URL is not set: using an embedded in-process Redis; statuses are lost when the process stops", "addr", m.Addr())
	}
	st, err := store.Open(url, cfg.Ingest.KeyPrefix)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.rdb = st.Client()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	fn := ingest.FromConfig(cfg.Ingest, st, log, reg, reg)
	mux := http.NewServeMux()
	mux.Handle("/", fn)
	if cfg.Reconcile != nil {
		c.rec, err = reconcile.FromConfig(*cfg.Reconcile, st, log, reg)
		if err != nil {
			c.Close()
			return nil, err
		}
		mux.Handle("/reconcile", c.rec)
	} else {
		const off = "reconcile is off: set REGISTRY_FILE_PATH (a local registry file, or with GITHUB_TOKEN the file in the repository) to turn it on"
		log.Info(off)
		mux.HandleFunc("/reconcile", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"error": off})
		})
	}
	c.server = &http.Server{
		Addr:              fmt.Sprintf(":%d", cfg.Port),
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
	}
	return c, nil
}

// Serve listens on l until ctx ends, then shuts down gracefully.
func (c *Collector) Serve(ctx context.Context, l net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- c.server.Serve(l) }()
	c.log.Info("collector listening", "addr", l.Addr().String())
	tctx, stopTicker := context.WithCancel(ctx)
	tickerDone := make(chan struct{})
	go func() { defer close(tickerDone); c.tick(tctx) }()
	defer func() { stopTicker(); <-tickerDone }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.server.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// tick runs a reconcile every interval until ctx ends, standing in for
// the PingSource. Runs exclude each other through the store's lock.
func (c *Collector) tick(ctx context.Context) {
	if c.rec == nil {
		return
	}
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.rec.Run(ctx) // logs its own result
		}
	}
}

// ListenAndServe listens on the configured port until ctx ends.
func (c *Collector) ListenAndServe(ctx context.Context) error {
	l, err := net.Listen("tcp", c.server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.server.Addr, err)
	}
	return c.Serve(ctx, l)
}

// Close releases Redis and the embedded server.
func (c *Collector) Close() {
	if c.rdb != nil {
		c.rdb.Close()
	}
	if c.embedded != nil {
		c.embedded.Close()
	}
}

// Main reads the environment, runs the collector until ctx ends and
// returns the process exit code.
func Main(ctx context.Context) int {
	e := config.FromOS()
	log := logging.FromEnv(e)
	store.UseLogger(log)
	cfg := ConfigFromEnv(e)
	if err := e.Err(); err != nil {
		log.Error("collector: " + err.Error())
		return 2
	}
	c, err := New(cfg, log)
	if err != nil {
		log.Error("collector: start", "err", err)
		return 1
	}
	defer c.Close()
	if err := c.ListenAndServe(ctx); err != nil {
		log.Error("collector: serve", "err", err)
		return 1
	}
	return 0
}

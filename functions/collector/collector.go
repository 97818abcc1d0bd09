// Package collector runs the whole system in one process for local use:
// the ingest API and POST /reconcile on one port, backed by Redis (an
// embedded in-process Redis when REDIS_URL is unset), with a ticker
// standing in for the PingSource.
package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/functions/ingest"
	"github.com/stuttgart-things/machinery-status-collector/functions/reconcile"
	"github.com/stuttgart-things/machinery-status-collector/shared/buildinfo"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/httpserver"
	"github.com/stuttgart-things/machinery-status-collector/shared/logging"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Config is the local run's environment.
type Config struct {
	Host      string // COLLECTOR_ADDR: the interface, loopback by default
	Port      int    // COLLECTOR_PORT
	Ingest    ingest.Config
	Reconcile *reconcile.Config // nil: no registry configured, reconcile off
	// Interval is COLLECTOR_RECONCILE_INTERVAL, the ticker's period.
	Interval time.Duration
	HTTP     httpserver.Config // HTTP_* bounds on clients
	// RedisPassword is read from REDIS_PASSWORD_FILE, as the deployed
	// functions read it; only with REDIS_URL (the embedded Redis has none).
	RedisPassword string
}

// --help lists what ConfigFromEnv reads.
var _ = config.Register(ConfigFromEnv)

// ConfigFromEnv reads the collector's variables, recording problems in e.
// Reconcile is configured only when REGISTRY_FILE_PATH or GitHub
// credentials are set, so `make run` works with no settings at all.
func ConfigFromEnv(e *config.Env) Config {
	c := Config{
		Host:     e.String("COLLECTOR_ADDR", "127.0.0.1"),
		Port:     e.Int("COLLECTOR_PORT", 8095, 1, 65535),
		Ingest:   ingest.ConfigFromEnv(e),
		Interval: e.Duration("COLLECTOR_RECONCILE_INTERVAL", 5*time.Minute, time.Second),
		HTTP:     httpserver.ConfigFromEnv(e),
	}
	if _, port, err := net.SplitHostPort(c.Host); err == nil {
		e.Fail("COLLECTOR_ADDR", "%q holds a port (%s); give the interface only (127.0.0.1, 0.0.0.0, ::) and the port in COLLECTOR_PORT", c.Host, port)
	}
	if loopback(c.Host) {
		// Open by default for local use, but never contradictory.
		if c.Ingest.Open && c.Ingest.Tokens.Len() > 0 {
			c.Ingest.RequireAuth(e)
		}
	} else {
		// Reachable from other machines: fail closed, as the deployed ingest.
		c.Ingest.RequireAuth(e)
	}
	store.CheckURL(e, c.Ingest.RedisURL)
	if c.Ingest.RedisURL != "" {
		c.RedisPassword = store.PasswordFromEnv(e)
	} else if e.Get("REDIS_PASSWORD_FILE") != "" {
		e.Fail("REDIS_PASSWORD_FILE", "is set but REDIS_URL is not: the embedded Redis takes no password; set REDIS_URL to the Redis it belongs to, or unset it")
	}
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

// loopback reports whether host (COLLECTOR_ADDR) is reachable only from
// this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Collector is the local process: its HTTP server and what it owns.
type Collector struct {
	cfg      Config
	log      *slog.Logger
	handler  http.Handler // the API and POST /reconcile
	server   *httpserver.Server
	embedded *miniredis.Miniredis // nil when REDIS_URL is set
	rdb      redis.UniversalClient
	rec      *reconcile.Function // nil when reconcile is off
}

// New builds the collector from cfg. Without a Redis URL it starts an
// embedded in-process Redis, which keeps data only while the process runs;
// with one it logs in with cfg.RedisPassword and fails, naming
// REDIS_PASSWORD_FILE, when Redis refuses it.
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
	st, err := store.OpenWithPassword(url, cfg.RedisPassword, cfg.Ingest.KeyPrefix)
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
		mux.Handle("/reconcile", fn.Guard(c.rec))
	} else {
		const off = "reconcile is off: set REGISTRY_FILE_PATH (a local registry file, or with GITHUB_TOKEN the file in the repository) to turn it on"
		log.Info(off)
		mux.HandleFunc("/reconcile", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"error": off})
		})
	}
	c.handler = mux
	c.server = httpserver.New("collector", mux, cfg.HTTP, log, nil)
	return c, nil
}

// Serve serves on l until ctx ends, then drains within HTTP_DRAIN_TIMEOUT.
// It logs one start line with the address and the mode.
func (c *Collector) Serve(ctx context.Context, l net.Listener) error {
	c.log.Info("collector listening", append([]any{"addr", l.Addr().String()}, append(c.mode(), buildinfo.Attrs()...)...)...)
	tctx, stopTicker := context.WithCancel(ctx)
	tickerDone := make(chan struct{})
	go func() { defer close(tickerDone); c.tick(tctx) }()
	defer func() { stopTicker(); <-tickerDone }()
	return c.server.Serve(ctx, l)
}

// mode says, for the start line, what this run does: its Redis, its auth
// and whether and how it reconciles.
func (c *Collector) mode() []any {
	redisMode, auth, rec := "REDIS_URL", "open", "off"
	if c.embedded != nil {
		redisMode = "embedded"
	}
	if n := c.cfg.Ingest.Tokens.Len(); n > 0 {
		auth = fmt.Sprintf("tokens (%d)", n)
	}
	if r := c.cfg.Reconcile; r != nil {
		rec = fmt.Sprintf("every %s, local publisher", c.cfg.Interval)
		if r.Publish.UseGitHub() {
			rec = fmt.Sprintf("every %s, GitHub publisher", c.cfg.Interval)
		}
	}
	return []any{"redis", redisMode, "auth", auth, "reconcile", rec}
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

// ListenAndServe listens on COLLECTOR_ADDR:COLLECTOR_PORT until ctx ends.
func (c *Collector) ListenAndServe(ctx context.Context) error {
	addr := net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
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

package reconcile

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// DefaultWarmup covers the agents' default resync period (10m, +10% jitter).
const DefaultWarmup = 11 * time.Minute

// Config is the reconcile's part of the environment.
type Config struct {
	RedisURL   string // REDIS_URL
	KeyPrefix  string // REDIS_KEY_PREFIX
	Publish    publish.Config
	AddMissing bool          // REGISTRY_ADD_MISSING
	Timeout    time.Duration // RECONCILE_TIMEOUT
	// Warmup is RECONCILE_WARMUP: by default one agent resync period
	// (10m) plus its jitter.
	Warmup time.Duration
	// MetricsPort serves /metrics beside the function (METRICS_PORT; 0:
	// off). functions-framework serves only the function itself, so
	// Prometheus scrapes this second port on the pod.
	MetricsPort int
	// MemoryLimit is RECONCILE_MEMORY_LIMIT in bytes: -1 derive the
	// default (memlimit.go), 0 off.
	MemoryLimit int64
}

// --help lists what ConfigFromEnv reads.
var _ = config.Register(ConfigFromEnv)

// ConfigFromEnv reads the reconcile variables, recording every problem in e.
func ConfigFromEnv(e *config.Env) Config {
	pc, err := publish.ConfigFromEnv(e.Get)
	e.Add(err)
	for name, def := range publish.EnvDefaults {
		e.Declare(name, def)
	}
	e.Declare("RECONCILE_MEMORY_LIMIT", "96Mi, or 3/4 of a smaller container limit")
	memLimit, err := parseMemoryLimit(e.Get("RECONCILE_MEMORY_LIMIT"))
	if err != nil {
		e.Fail("RECONCILE_MEMORY_LIMIT", "%v", err)
	}
	return Config{
		MemoryLimit: memLimit,
		RedisURL:    e.Get("REDIS_URL"),
		KeyPrefix:   e.String("REDIS_KEY_PREFIX", store.DefaultPrefix),
		Publish:     pc,
		AddMissing:  e.Bool("REGISTRY_ADD_MISSING", false),
		Timeout:     e.Duration("RECONCILE_TIMEOUT", 4*time.Minute, 5*time.Second),
		MetricsPort: e.Int("METRICS_PORT", 0, 0, 65535),
		Warmup:      e.Duration("RECONCILE_WARMUP", DefaultWarmup, 0),
	}
}

// FromConfig builds a Function over st with the publisher cfg selects
// (GitHub when credentials are set, else the local folder), registering
// its metrics with reg.
func FromConfig(cfg Config, st *store.Store, log *slog.Logger, reg prometheus.Registerer) (*Function, error) {
	m := NewMetrics(reg)
	pub, err := publish.New(cfg.Publish, publish.Options{Logger: log, OnCall: m.OnCall})
	if err != nil {
		return nil, err
	}
	kind := "local folder " + cfg.Publish.LocalDir
	if cfg.Publish.UseGitHub() {
		kind = "GitHub " + cfg.Publish.Owner + "/" + cfg.Publish.Repo
	}
	log.Info("reconcile publishes to "+kind, "file", cfg.Publish.Path, "base", cfg.Publish.BaseBranch, "branch", cfg.Publish.Branch)
	return New(Options{
		Store: st, Publisher: pub, Registry: registry.Options{AddMissing: cfg.AddMissing},
		FilePath: cfg.Publish.Path, Timeout: cfg.Timeout, Warmup: cfg.Warmup, Logger: log, Metrics: m,
	}), nil
}

package ingest

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stuttgart-things/machinery-status-collector/shared/bootstrap"
	"github.com/stuttgart-things/machinery-status-collector/shared/buildinfo"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// tokensReloadInterval is how often a running ingest re-reads
// INGEST_TOKENS_FILE; a Secret volume update takes about a minute anyway.
const tokensReloadInterval = 30 * time.Second

// FunctionTarget is the name functions-framework serves this function under.
const FunctionTarget = "ingest"

func init() {
	functions.HTTP(FunctionTarget, serveDefault)
}

var (
	defaultOnce sync.Once
	defaultFn   *Function
	defaultErr  error
)

// Default builds, once, the Function that functions-framework serves, from
// the process environment. A main calls it at start to fail fast on bad
// configuration instead of at the first request.
func Default() (*Function, error) {
	defaultOnce.Do(func() {
		p, err := bootstrap.FromEnv("ingest", ConfigFromEnv, func(c Config) (string, string) { return c.RedisURL, c.KeyPrefix })
		if err != nil {
			defaultErr = err
			return
		}
		defaultFn = FromConfig(p.Config, p.Store, p.Log, prometheus.DefaultRegisterer, prometheus.DefaultGatherer)
		if p.Config.TokensFile != "" {
			go defaultFn.WatchTokensFile(context.Background(), p.Config.TokensFile, p.Config.EnvTokens, tokensReloadInterval)
		}
	})
	return defaultFn, defaultErr
}

// FromConfig builds a Function from cfg over st, warning when the API is open.
func FromConfig(cfg Config, st *store.Store, log *slog.Logger, reg prometheus.Registerer, g prometheus.Gatherer) *Function {
	if cfg.Tokens.Len() == 0 {
		log.Warn("no ingest tokens configured (INGEST_TOKENS, INGEST_TOKENS_FILE): the API accepts writes from anyone")
	}
	st.SetClaimLimit(cfg.MaxClaimsPerCluster)
	return New(Options{
		Store: st, Tokens: cfg.Tokens, MaxItems: cfg.MaxItems, MaxBodyBytes: cfg.MaxBodyBytes,
		RequestTimeout: cfg.RequestTimeout, Logger: log, MaxInFlightBytes: cfg.MaxInFlightBytes,
		Version: buildinfo.Version, Commit: buildinfo.Commit(),
		Registerer: reg, Gatherer: g,
	})
}

// serveDefault is what functions-framework calls for every request.
func serveDefault(w http.ResponseWriter, r *http.Request) {
	f, err := Default()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "ingest is misconfigured; see the function's log")
		return
	}
	f.ServeHTTP(w, r)
}

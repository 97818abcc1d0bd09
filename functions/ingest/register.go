package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stuttgart-things/machinery-status-collector/shared/bootstrap"
	"github.com/stuttgart-things/machinery-status-collector/shared/buildinfo"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
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
	defaultProc bootstrap.Process[Config]
	defaultFn   *Function
	defaultErr  error
)

// Default builds, once, the Function that functions-framework serves, from
// the process environment. A main calls it at start to fail fast on bad
// configuration instead of at the first request; with no tokens and no
// INGEST_AUTH=none that is a configuration error.
func Default() (*Function, error) {
	defaultOnce.Do(func() {
		read := func(e *config.Env) Config { c := ConfigFromEnv(e); c.RequireAuth(e); return c }
		p, err := bootstrap.FromEnv(FunctionTarget, read, func(c Config) (string, string) { return c.RedisURL, c.KeyPrefix })
		if err != nil {
			defaultErr = err
			return
		}
		defaultProc = p
		defaultFn = FromConfig(p.Config, p.Store, p.Log, prometheus.DefaultRegisterer, prometheus.DefaultGatherer)
		if p.Config.TokensFile != "" {
			go defaultFn.WatchTokensFile(context.Background(), p.Config.TokensFile, p.Config.EnvTokens, p.Config.TokensFileData, tokensReloadInterval)
		}
	})
	return defaultFn, defaultErr
}

// Main serves the registered function on PORT through our own bounded
// server until ctx ends (SIGTERM), and returns the exit code: 2 for bad
// configuration, 1 when serving fails.
func Main(ctx context.Context) int {
	if _, err := Default(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	c := defaultProc.Config
	if err := defaultProc.Serve(ctx, http.HandlerFunc(serveDefault), "auth", c.authMode(), "tokens", c.Tokens.Len()); err != nil {
		defaultProc.Log.Error("ingest: serve", "err", err)
		return 1
	}
	return 0
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

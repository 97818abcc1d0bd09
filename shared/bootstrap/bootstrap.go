// Package bootstrap starts a deployed function from the process
// environment: its logger, its own settings, the Redis store it runs on
// and the HTTP server it is served by, with every configuration problem
// reported at once.
package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/stuttgart-things/machinery-status-collector/shared/buildinfo"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/httpserver"
	"github.com/stuttgart-things/machinery-status-collector/shared/logging"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Process is what a function needs to build and serve itself.
type Process[C any] struct {
	Name   string // the function's FUNCTION_TARGET
	Config C
	Store  *store.Store
	Log    *slog.Logger
	Port   int               // PORT, default 8080 (Knative sets it)
	HTTP   httpserver.Config // HTTP_* bounds on clients
}

// FromEnv reads the environment for the function called name: LOG_* for
// the logger (go-redis logs through it too), read for the function's
// settings, redis to pick REDIS_URL (required here; only the local run
// embeds a Redis) and the key prefix from them, PORT and HTTP_* for its
// server, and FUNCTION_TARGET, which must be unset or name. Errors start
// with name.
func FromEnv[C any](name string, read func(*config.Env) C, redis func(C) (url, prefix string)) (Process[C], error) {
	e := config.FromOS()
	log := logging.FromEnv(e)
	store.UseLogger(log)
	cfg := read(e)
	url, prefix := redis(cfg)
	store.RequireURL(e, url)
	srv := serverFromEnv(e, name)
	if err := e.Err(); err != nil {
		return Process[C]{}, fmt.Errorf("%s: %w", name, err)
	}
	st, err := store.OpenWithPassword(url, srv.password, prefix)
	if err != nil {
		return Process[C]{}, fmt.Errorf("%s: %w", name, err)
	}
	return Process[C]{Name: name, Config: cfg, Store: st, Log: log, Port: srv.port, HTTP: srv.http}, nil
}

// server is what FromEnv reads for the process itself, beside the
// function's own settings.
type server struct {
	password string
	port     int
	http     httpserver.Config
}

// serverFromEnv reads REDIS_PASSWORD_FILE, FUNCTION_TARGET (unset or
// name), PORT and HTTP_*, recording problems in e.
func serverFromEnv(e *config.Env, name string) server {
	s := server{password: store.PasswordFromEnv(e)}
	if t := e.Get("FUNCTION_TARGET"); t != "" && t != name {
		e.Fail("FUNCTION_TARGET", "%q is not a function of this binary, which serves %q", t, name)
	}
	s.port = e.Int("PORT", 8080, 1, 65535)
	s.http = httpserver.ConfigFromEnv(e)
	return s
}

// Register adds what FromEnv reads for the function called name (REDIS_URL
// as required, REDIS_PASSWORD_FILE, FUNCTION_TARGET, PORT, HTTP_*) to
// --help. The function mains call it; the local collector, which links
// this package too, serves neither PORT nor FUNCTION_TARGET.
func Register(name string) bool {
	return config.Register(func(e *config.Env) server {
		store.RequireURL(e, e.Get("REDIS_URL"))
		return serverFromEnv(e, name)
	})
}

// Serve serves h on PORT through httpserver until ctx ends (SIGTERM),
// after one start line with the address, the build and mode (key-value
// pairs saying how the function runs), and drains within HTTP_DRAIN_TIMEOUT.
func (p Process[C]) Serve(ctx context.Context, h http.Handler, mode ...any) error {
	srv := httpserver.New(p.Name, h, p.HTTP, p.Log, nil)
	return srv.ListenAndServe(ctx, net.JoinHostPort("", strconv.Itoa(p.Port)), func(a net.Addr) {
		attrs := append([]any{"addr", a.String(), "target", p.Name}, mode...)
		p.Log.Info(p.Name+" listening", append(attrs, buildinfo.Attrs()...)...)
	})
}

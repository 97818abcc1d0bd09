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
	password := store.PasswordFromEnv(e)
	if t := e.Get("FUNCTION_TARGET"); t != "" && t != name {
		e.Fail("FUNCTION_TARGET", "%q is not a function of this binary, which serves %q", t, name)
	}
	port := e.Int("PORT", 8080, 1, 65535)
	hc := httpserver.ConfigFromEnv(e)
	if err := e.Err(); err != nil {
		return Process[C]{}, fmt.Errorf("%s: %w", name, err)
	}
	st, err := store.OpenWithPassword(url, password, prefix)
	if err != nil {
		return Process[C]{}, fmt.Errorf("%s: %w", name, err)
	}
	return Process[C]{Name: name, Config: cfg, Store: st, Log: log, Port: port, HTTP: hc}, nil
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

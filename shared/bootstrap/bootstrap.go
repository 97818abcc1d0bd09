// Package bootstrap starts a deployed function from the process
// environment: its logger, its own settings and the Redis store it runs
// on, with every configuration problem reported at once.
package bootstrap

import (
	"fmt"
	"log/slog"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/logging"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Process is what a function needs to build itself.
type Process[C any] struct {
	Config C
	Store  *store.Store
	Log    *slog.Logger
}

// FromEnv reads the environment for the function called name: LOG_* for
// the logger (go-redis logs through it too), read for the function's
// settings, and redis to pick REDIS_URL (required here; only the local
// run embeds a Redis) and the key prefix from them. Errors start with name.
func FromEnv[C any](name string, read func(*config.Env) C, redis func(C) (url, prefix string)) (Process[C], error) {
	e := config.FromOS()
	log := logging.FromEnv(e)
	store.UseLogger(log)
	cfg := read(e)
	url, prefix := redis(cfg)
	store.RequireURL(e, url)
	password := store.PasswordFromEnv(e)
	if err := e.Err(); err != nil {
		return Process[C]{}, fmt.Errorf("%s: %w", name, err)
	}
	st, err := store.OpenWithPassword(url, password, prefix)
	if err != nil {
		return Process[C]{}, fmt.Errorf("%s: %w", name, err)
	}
	return Process[C]{Config: cfg, Store: st, Log: log}, nil
}

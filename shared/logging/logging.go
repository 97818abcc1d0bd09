// Package logging builds the process logger from LOG_LEVEL and LOG_FORMAT.
package logging

import (
	"log/slog"
	"os"
	"strings"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

// --help lists LOG_LEVEL and LOG_FORMAT wherever a logger is built.
var _ = config.Register(FromEnv)

// FromEnv returns a logger writing to stderr: JSON by default (LOG_FORMAT=text
// for humans), at LOG_LEVEL (debug, info, warn, error; default info).
// Problems are recorded in e.
func FromEnv(e *config.Env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(e.String("LOG_LEVEL", "info"))); err != nil {
		e.Fail("LOG_LEVEL", "%q is not one of debug, info, warn, error", e.Get("LOG_LEVEL"))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(e.String("LOG_FORMAT", "json")) {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	default:
		e.Fail("LOG_FORMAT", "%q is not json or text", e.Get("LOG_FORMAT"))
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
}

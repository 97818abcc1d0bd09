// Package httpserver is the HTTP server every process of the project runs:
// net/http with bounds on how long a client may hold a connection, and a
// drain on shutdown that is bounded too.
package httpserver

import (
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

// Config bounds slow and idle clients and the shutdown drain.
type Config struct {
	ReadHeaderTimeout time.Duration // HTTP_READ_HEADER_TIMEOUT: request line and headers
	ReadTimeout       time.Duration // HTTP_READ_TIMEOUT: the whole request, body included
	WriteTimeout      time.Duration // HTTP_WRITE_TIMEOUT: from the end of the headers to the end of the answer
	IdleTimeout       time.Duration // HTTP_IDLE_TIMEOUT: a keep-alive connection between requests
	MaxHeaderBytes    int           // HTTP_MAX_HEADER_BYTES
	DrainTimeout      time.Duration // HTTP_DRAIN_TIMEOUT: in-flight requests after SIGTERM
}

// Defaults fit the ingest's limits: a 4 MiB body arrives well within the
// read timeout on any link an agent uses, and a request's Redis work is
// bounded by 10 s, far below the write timeout. The drain fits Kubernetes'
// default 30 s termination grace period.
func Defaults() Config {
	return Config{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		DrainTimeout:      20 * time.Second,
	}
}

// ConfigFromEnv reads the HTTP_* variables over Defaults, recording every
// problem in e.
func ConfigFromEnv(e *config.Env) Config {
	d := Defaults()
	const min = 10 * time.Millisecond
	return Config{
		ReadHeaderTimeout: e.Duration("HTTP_READ_HEADER_TIMEOUT", d.ReadHeaderTimeout, min),
		ReadTimeout:       e.Duration("HTTP_READ_TIMEOUT", d.ReadTimeout, min),
		WriteTimeout:      e.Duration("HTTP_WRITE_TIMEOUT", d.WriteTimeout, min),
		IdleTimeout:       e.Duration("HTTP_IDLE_TIMEOUT", d.IdleTimeout, min),
		MaxHeaderBytes:    e.Int("HTTP_MAX_HEADER_BYTES", d.MaxHeaderBytes, 4<<10, 1<<20),
		DrainTimeout:      e.Duration("HTTP_DRAIN_TIMEOUT", d.DrainTimeout, 0),
	}
}

package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Server serves one handler within Config's bounds. Build it with New.
type Server struct {
	name     string
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	srv      *http.Server
	inFlight atomic.Int64
}

// New builds the server called name (it names the process in the log)
// for h. now is the clock for the drain's log line; time.Now when nil.
func New(name string, h http.Handler, cfg Config, log *slog.Logger, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{name: name, cfg: cfg, log: log, now: now}
	s.srv = &http.Server{
		Handler:           s.count(h),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s
}

// count tracks the requests in flight, for the drain's log line.
func (s *Server) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// Serve serves on l until ctx ends. Then it stops accepting, lets the
// requests in flight finish for at most DrainTimeout, closes whatever is
// left and logs one line saying which. It returns nil after a shutdown,
// drained or not, and the error when serving fails.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("%s: serve on %s: %w", s.name, l.Addr(), err)
	case <-ctx.Done():
	}
	start, pending := s.now(), s.inFlight.Load()
	dctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	err := s.srv.Shutdown(dctx)
	took := s.now().Sub(start).Round(time.Millisecond)
	if err != nil {
		left := s.inFlight.Load()
		s.srv.Close() // ends the stragglers' connections
		s.log.Warn("stopped: drain timed out, closed the requests still running",
			"server", s.name, "inFlight", pending, "closed", left, "drainTimeout", s.cfg.DrainTimeout)
	} else {
		s.log.Info("stopped: drained", "server", s.name, "inFlight", pending, "took", took)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: serve on %s: %w", s.name, l.Addr(), err)
	}
	return nil
}

// ListenAndServe listens on addr (host:port) and serves until ctx ends;
// started, when not nil, receives the bound address once listening.
func (s *Server) ListenAndServe(ctx context.Context, addr string, started func(net.Addr)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w", s.name, addr, err)
	}
	if started != nil {
		started(l.Addr())
	}
	return s.Serve(ctx, l)
}

// ExtendWrite moves the write deadline of w's connection to d from now,
// for a handler known to outlive WriteTimeout (a reconcile run). It
// reports whether the connection supports deadlines.
func ExtendWrite(w http.ResponseWriter, d time.Duration) bool {
	return http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d)) == nil
}

package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"
)

type ctxKey int

const requestIDKey ctxKey = 0

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// RequestID returns the id accessLog gave the request, "" outside one.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// statusWriter remembers the status code and size for the access log.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog gives every request an id (the caller's X-Request-Id when it is
// sane, else a random one), echoes it, and logs one structured line per
// request. It never logs headers, so tokens stay out of the log.
func (f *Function) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := f.opts.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID.MatchString(id) {
			// Ids only correlate log lines; they need not be secret, so a
			// fast generator spares a syscall per request.
			id = strconv.FormatUint(rand.Uint64(), 16)
		}
		w.Header().Set(RequestIDHeader, id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
		level := slog.LevelInfo
		switch {
		case sw.code >= 500:
			level = slog.LevelError
		case sw.code >= 400:
			level = slog.LevelWarn
		case r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics":
			level = slog.LevelDebug // probes would drown the log
		}
		f.log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.code),
			slog.Int("bytes", sw.bytes),
			slog.Int64("request_bytes", r.ContentLength),
			slog.Duration("duration", f.opts.Now().Sub(start)),
			slog.String("remote", r.RemoteAddr))
	})
}

// recoverPanics turns a panic in a handler into a logged 500, so one bad
// request cannot take the process (and every other request) down.
func (f *Function) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			f.log.Error("handler panic", "request_id", w.Header().Get(RequestIDHeader),
				"path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(w, http.StatusInternalServerError, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// instrument counts requests by route and code and times them.
func (f *Function) instrument(route string, next http.Handler) http.Handler {
	rm := f.metrics.route(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		next.ServeHTTP(sw, r)
		rm.observe(sw.code, time.Since(start))
	})
}

// reservation is the number of body bytes a write holds against
// MaxInFlightBytes: its Content-Length, or the body limit when the length
// is unknown (chunked) or above it (readBody refuses it then).
func (f *Function) reservation(r *http.Request) int64 {
	if r.ContentLength < 0 || r.ContentLength > f.opts.MaxBodyBytes {
		return f.opts.MaxBodyBytes
	}
	return r.ContentLength
}

// reserve takes the request's body bytes from the process-wide in-flight
// budget before the body is read, so concurrent writes cannot grow the
// heap past it: a write that does not fit is shed at once with 503 and
// Retry-After, and its body is never read. release gives the bytes back.
func (f *Function) reserve(w http.ResponseWriter, r *http.Request) bool {
	n := f.reservation(r)
	for {
		cur := f.inFlight.Load()
		if cur+n > f.opts.MaxInFlightBytes && cur > 0 {
			f.inFlightRefused.Inc()
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf(
				"requests in flight hold %d body bytes; %d more would exceed the limit of %d (INGEST_MAX_INFLIGHT_BYTES), retry later",
				cur, n, f.opts.MaxInFlightBytes))
			return false
		}
		if f.inFlight.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// release returns what reserve took for r.
func (f *Function) release(r *http.Request) { f.inFlight.Add(-f.reservation(r)) }

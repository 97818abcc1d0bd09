// Package ingest is the HTTP function that receives claim statuses from
// cluster agents (and seed-era scripts) and stores them in Redis.
package ingest

import (
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Defaults for the request limits.
const (
	DefaultMaxItems     = 1000
	DefaultMaxBodyBytes = 4 << 20
	// DefaultMaxInFlightBytes: four full batches at once. Decoding and
	// encoding a batch takes a few times its body, so this keeps a burst
	// of large batches well inside the ingest's 256Mi memory limit.
	DefaultMaxInFlightBytes = 16 << 20
)

// Options are the dependencies and limits of a Function.
type Options struct {
	Store        *store.Store
	Tokens       Tokens // no tokens: the API is open
	MaxItems     int    // items per batch; DefaultMaxItems when 0
	MaxBodyBytes int64  // request body size; DefaultMaxBodyBytes when 0
	Logger       *slog.Logger
	Now          func() time.Time
	Version      string
	Commit       string
	// Registerer receives the function's metrics; a private registry when nil.
	Registerer prometheus.Registerer
	// Gatherer serves /metrics; the private registry when nil.
	Gatherer prometheus.Gatherer
	// RequestTimeout bounds each request's work against Redis (default 10s).
	RequestTimeout time.Duration
	// StaleAfter: the status page marks a cluster not seen for longer as
	// stale (DefaultStaleAfter when 0).
	StaleAfter time.Duration
	// MaxInFlightBytes caps the body bytes of writes being served at once
	// (DefaultMaxInFlightBytes when 0); a write beyond it answers 503.
	MaxInFlightBytes int64
}

// DefaultStaleAfter is two of the agent's default resync periods (10m):
// a live agent sends at least that often.
const DefaultStaleAfter = 20 * time.Minute

// Function serves the ingest API. Build it with New; it is an http.Handler
// and safe for concurrent use.
type Function struct {
	opts    Options
	tokens  atomic.Pointer[Tokens] // swapped whole when the tokens file changes
	log     *slog.Logger
	metrics *metrics
	handler http.Handler
	// inFlight is the body bytes reserved by writes being served.
	inFlight atomic.Int64
	// inFlightRefused counts writes the in-flight cap answered 503.
	inFlightRefused prometheus.Counter
	// tokenReloadFailures counts re-reads of the tokens file that kept the
	// previous tokens.
	tokenReloadFailures prometheus.Counter
	// betweenPasses, when set, runs between the two passes of a paged
	// listing: tests write records there to race the page.
	betweenPasses func()
	// pages holds the last answers of GET /api/v1/claims.
	pages pageCache
}

// New wires a Function from opts, filling defaults.
func New(opts Options) *Function {
	if opts.MaxItems <= 0 {
		opts.MaxItems = DefaultMaxItems
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxInFlightBytes <= 0 {
		opts.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = DefaultStaleAfter
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.Registerer == nil {
		reg := prometheus.NewRegistry()
		opts.Registerer, opts.Gatherer = reg, reg
	}
	f := &Function{opts: opts, log: opts.Logger, metrics: newMetrics(opts.Registerer)}
	if opts.Store != nil {
		opts.Registerer.MustRegister(newFleetCollector(opts.Store, opts.Now, DefaultFleetCacheTTL, opts.Logger))
	}
	f.tokens.Store(&opts.Tokens)
	f.tokenReloadFailures = newTokenMetrics(opts.Registerer, f)
	f.inFlightRefused = newInFlightMetrics(opts.Registerer, f)
	f.handler = f.routes()
	return f
}

// ServeHTTP serves one request through the middleware and the routes.
func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.handler.ServeHTTP(w, r)
}

// Guard serves h only to callers with a "*" token when tokens are
// configured, answering 401 or 403 like the API otherwise; with no tokens
// (the open local run) it serves everyone. The local collector guards
// POST /reconcile with it.
func (f *Function) Guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.authorize(w, r, AnyCluster) {
			h.ServeHTTP(w, r)
		}
	})
}

// routes maps paths to handlers. Methods are dispatched by hand so a wrong
// method gets a JSON 405 with Allow, like every other error.
func (f *Function) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, route string, methods map[string]http.HandlerFunc) {
		mux.Handle(pattern, f.instrument(route, byMethod(methods)))
	}
	handle("/api/v1/status", "/api/v1/status", map[string]http.HandlerFunc{
		http.MethodPost: f.postStatus, http.MethodGet: f.getAllStatus})
	handle("/api/v1/status/{cluster}", "/api/v1/status/{cluster}", map[string]http.HandlerFunc{
		http.MethodGet: f.getClusterStatus})
	handle("/api/v1/statuses", "/api/v1/statuses", map[string]http.HandlerFunc{
		http.MethodPost: f.postStatuses})
	handle("/api/v1/clusters", "/api/v1/clusters", map[string]http.HandlerFunc{
		http.MethodGet: f.getClusters})
	handle("/api/v1/claims", "/api/v1/claims", map[string]http.HandlerFunc{
		http.MethodGet: f.getClaims})
	handle("/api/v1/overview", "/api/v1/overview", map[string]http.HandlerFunc{
		http.MethodGet: f.getOverview})
	handle("/ui/", "/ui/", map[string]http.HandlerFunc{http.MethodGet: f.ui().ServeHTTP})
	mux.Handle("/ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
	handle("/healthz", "/healthz", map[string]http.HandlerFunc{http.MethodGet: f.healthz})
	handle("/readyz", "/readyz", map[string]http.HandlerFunc{http.MethodGet: f.readyz})
	handle("/version", "/version", map[string]http.HandlerFunc{http.MethodGet: f.version})
	handle("/metrics", "/metrics", map[string]http.HandlerFunc{http.MethodGet: f.metricsHandler().ServeHTTP})
	mux.Handle("/", f.instrument("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no route for "+r.URL.Path)
	})))
	return f.accessLog(f.recoverPanics(mux))
}

// byMethod dispatches on the request method; HEAD is served as GET.
func byMethod(m map[string]http.HandlerFunc) http.Handler {
	allow := ""
	for _, meth := range []string{http.MethodGet, http.MethodPost} {
		if m[meth] != nil {
			if allow != "" {
				allow += ", "
			}
			allow += meth
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		h := m[method]
		if h == nil {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path+"; allowed: "+allow)
			return
		}
		h(w, r)
	})
}

// Package githubfake is an in-process fake of the GitHub REST API for
// tests, driven through go-github. It keeps real git objects (SHA-1s
// computed as git does), refs, pull requests, comments and labels, answers
// with the status codes and messages GitHub uses, and can inject rate
// limits, server errors, dropped connections and latency. Every call is
// logged so tests can assert call budgets.
//
// Import it only from _test.go files.
package githubfake

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
)

// DefaultRateLimit is the primary rate limit the fake reports per hour,
// GitHub's figure for a personal access token.
const DefaultRateLimit = 5000

// enterprisePrefix is where GitHub Enterprise serves the API; the fake
// serves the same routes with and without it.
const enterprisePrefix = "/api/v3"

// Server is a running fake. All methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server
	mux *http.ServeMux

	now func() time.Time // set once at creation; safe to call without locks

	// logMu guards calls on its own: the log is written while a handler
	// holds mu.
	logMu sync.Mutex
	calls []Call

	mu     sync.Mutex
	repos  map[string]*repoState
	faults []*Fault
	nextID int64

	// auth: with no token configured and no app registered every request
	// is accepted; otherwise the Authorization header must carry one of
	// the accepted tokens.
	tokens map[string]bool
	token  string // the one set by WithToken, for Client
	apps   map[int64]*appInstall

	rateLimit   int
	rateUsed    int
	rateResetAt time.Time
}

// Option configures a Server at creation.
type Option func(*Server)

// WithClock makes the fake read time from now (commit dates, rate-limit
// reset times), so tests can drive it with the same fake clock as the code
// under test.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithToken makes the fake require token (as "Bearer" or "token") on every
// repository call, answering 401 "Bad credentials" otherwise.
func WithToken(token string) Option {
	return func(s *Server) { s.tokens[token], s.token = true, token }
}

// WithRateLimit sets the hourly primary limit; once used up, calls get
// GitHub's 403 with X-RateLimit-Remaining: 0 until the window resets.
func WithRateLimit(limit int) Option {
	return func(s *Server) { s.rateLimit = limit }
}

// New starts a fake and stops it when t ends.
func New(t testing.TB, opts ...Option) *Server {
	s := &Server{
		mux:       http.NewServeMux(),
		now:       time.Now,
		repos:     map[string]*repoState{},
		tokens:    map[string]bool{},
		apps:      map[int64]*appInstall{},
		rateLimit: DefaultRateLimit,
	}
	for _, o := range opts {
		o(s)
	}
	s.routes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's root with a trailing slash, suitable for
// github.Client.WithEnterpriseURLs (which adds "api/v3/") or as
// GITHUB_API_URL.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Client returns a go-github client for the fake, authenticated with the
// WithToken token when there is one.
func (s *Server) Client() *github.Client {
	c, err := github.NewClient(nil).WithEnterpriseURLs(s.URL(), s.URL())
	if err != nil {
		panic(err) // the URL comes from httptest and always parses
	}
	if s.token != "" {
		return c.WithAuthToken(s.token)
	}
	return c
}

// Call is one logged request.
type Call struct {
	Method   string
	Path     string // request path without the Enterprise prefix
	Endpoint string // route pattern, e.g. "GET /repos/{owner}/{repo}/git/ref/{ref...}"; "" for unknown routes
	Status   int    // 0 when the connection was dropped
	Fault    FaultKind
	At       time.Time
}

// Mutating reports whether the call could change repository state:
// anything but GET/HEAD, except an App's installation-token request.
func (c Call) Mutating() bool {
	return c.Method != http.MethodGet && c.Method != http.MethodHead && !strings.HasPrefix(c.Path, "/app/")
}

// Calls returns a copy of the call log in arrival order.
func (s *Server) Calls() []Call {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallCount is the number of logged calls.
func (s *Server) CallCount() int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return len(s.calls)
}

// Mutations is the number of logged calls that are Mutating.
func (s *Server) Mutations() int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Mutating() {
			n++
		}
	}
	return n
}

// CountByEndpoint tallies logged calls as "<endpoint> <status>", e.g.
// "POST /repos/{owner}/{repo}/git/trees 201".
func (s *Server) CountByEndpoint() map[string]int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	m := map[string]int{}
	for _, c := range s.calls {
		ep := c.Endpoint
		if ep == "" {
			ep = c.Method + " " + c.Path
		}
		m[ep+" "+strconv.Itoa(c.Status)]++
	}
	return m
}

// ResetCalls empties the call log (faults and repository state stay).
func (s *Server) ResetCalls() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.calls = nil
}

// statusRecorder logs the call when the status is written, before any
// byte reaches the client, so a test that has its response also sees the
// call in the log.
type statusRecorder struct {
	http.ResponseWriter
	log    func(status int)
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.log(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// serve is the front door: it strips the Enterprise prefix, applies
// faults, rate-limit headers and auth, routes, and logs the call.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	r = stripPrefix(r)
	_, pattern := s.mux.Handler(r)
	if pattern == "/" {
		pattern = "" // the JSON 404 catch-all
	}
	call := Call{Method: r.Method, Path: r.URL.Path, Endpoint: pattern}

	f := s.takeFault(r.Method, r.URL.Path)
	if f != nil && f.Before != nil {
		f.Before()
	}
	if f != nil && f.Kind == Latency {
		sleepCtx(r.Context(), f.Wait)
		f = nil
	}
	logCall := func(status int) {
		s.logMu.Lock()
		defer s.logMu.Unlock()
		call.Status, call.At = status, s.now()
		s.calls = append(s.calls, call)
	}
	rec := &statusRecorder{ResponseWriter: w, log: logCall}
	if f != nil {
		call.Fault = f.Kind
		if (f.Kind == AppliedServerError || f.Kind == AppliedConnectionReset) && s.authorized(r) {
			s.applied(r)
		}
		if f.Kind == ConnectionReset || f.Kind == AppliedConnectionReset {
			logCall(0)
			dropConnection(w)
			return
		}
	}
	limited := s.rateHeaders(rec.Header())
	switch {
	case f != nil:
		s.writeFault(rec, f)
	case limited:
		s.writePrimaryLimit(rec, http.StatusForbidden, time.Time{})
	case !s.authorized(r):
		writeError(rec, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
	default:
		s.mux.ServeHTTP(rec, r)
	}
}

// stripPrefix serves Enterprise-style URLs with the same routes.
func stripPrefix(r *http.Request) *http.Request {
	p, ok := strings.CutPrefix(r.URL.Path, enterprisePrefix)
	if !ok {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = p
	r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, enterprisePrefix)
	return r2
}

// rateHeaders sets the X-RateLimit-* headers every GitHub response
// carries and reports whether the window's limit is already used up.
func (s *Server) rateHeaders(h http.Header) (limited bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.rateResetAt.IsZero() || !now.Before(s.rateResetAt) {
		s.rateResetAt = now.Add(time.Hour).Truncate(time.Second)
		s.rateUsed = 0
	}
	limited = s.rateUsed >= s.rateLimit
	if !limited {
		s.rateUsed++
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.rateLimit-s.rateUsed))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.rateUsed))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.rateResetAt.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	return limited
}

// authorized checks the Authorization header when auth is configured.
// The installation-token endpoint does its own (JWT) check.
func (s *Server) authorized(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/app/") {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tokens) == 0 && len(s.apps) == 0 {
		return true
	}
	return s.tokens[bearer(r)]
}

// bearer extracts the credential from "Bearer x" or "token x".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "bearer ", "token "} {
		if v, ok := strings.CutPrefix(h, p); ok {
			return v
		}
	}
	return ""
}

// sleepCtx waits d or until ctx ends (the client gave up).
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// dropConnection closes the connection without a response, which the
// client sees as a network error.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("githubfake: response writer cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

// docsURL is the documentation_url GitHub sends with errors.
const docsURL = "https://docs.github.com/rest"

// apiError is GitHub's error body.
type apiError struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
	Status           string       `json:"status"`
}

// fieldError is one entry of a 422's "errors".
type fieldError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg, doc string) {
	writeJSON(w, status, apiError{Message: msg, DocumentationURL: doc, Status: strconv.Itoa(status)})
}

func notFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "Not Found", docsURL)
}

// unprocessable answers 422 with a top-level message, as the git endpoints do.
func unprocessable(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusUnprocessableEntity, msg, docsURL)
}

// validationFailed answers 422 "Validation Failed" with field errors, as
// the pulls endpoints do.
func validationFailed(w http.ResponseWriter, errs ...fieldError) {
	writeJSON(w, http.StatusUnprocessableEntity, apiError{
		Message: "Validation Failed", Errors: errs, DocumentationURL: docsURL, Status: "422",
	})
}

// decodeBody reads a JSON request body, answering 400 "Problems parsing
// JSON" like GitHub when it is malformed.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docsURL)
		return false
	}
	return true
}

// newID hands out ids for comments, labels and pull requests.
func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

// wants reports whether the Accept header asks for a custom media type
// such as "raw" or "sha" (application/vnd.github.v3.raw, vnd.github.raw).
func wants(r *http.Request, media string) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "vnd.github.v3."+media) || strings.Contains(a, "vnd.github."+media)
}

// rsaKey is an App's public key, used to check its JWTs.
type appInstall struct {
	key           *rsa.PublicKey
	installations map[int64]bool
}

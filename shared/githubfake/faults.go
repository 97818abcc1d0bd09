package githubfake

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind selects what an injected Fault does to a call.
type FaultKind int

// Fault kinds. The zero value means "no fault" in the call log.
const (
	// PrimaryRateLimit answers 403 (or Fault.Status, e.g. 429) with
	// X-RateLimit-Remaining: 0 and X-RateLimit-Reset = now + Fault.Wait.
	PrimaryRateLimit FaultKind = iota + 1
	// SecondaryRateLimit answers 403 (or Fault.Status) with GitHub's
	// secondary-limit message and documentation_url, and Retry-After =
	// Fault.Wait in seconds; with Wait 0 the header is left out.
	SecondaryRateLimit
	// TooManyRequests answers 429 with Retry-After = Fault.Wait (left out
	// when 0). go-github v66 turns it into a plain *github.ErrorResponse.
	TooManyRequests
	// ServerError answers Fault.Status (default 502).
	ServerError
	// Latency delays the call by Fault.Wait (real time) and then serves it.
	Latency
	// ConnectionReset closes the connection without answering.
	ConnectionReset
	// AppliedServerError serves the call, so its effect happens, and then
	// answers Fault.Status (default 502) instead of the result: a gateway
	// that timed out after GitHub did the work.
	AppliedServerError
	// AppliedConnectionReset serves the call and then closes the
	// connection without answering.
	AppliedConnectionReset
)

// String names the kind for logs and test output.
func (k FaultKind) String() string {
	switch k {
	case PrimaryRateLimit:
		return "primary-rate-limit"
	case SecondaryRateLimit:
		return "secondary-rate-limit"
	case TooManyRequests:
		return "too-many-requests"
	case ServerError:
		return "server-error"
	case Latency:
		return "latency"
	case ConnectionReset:
		return "connection-reset"
	case AppliedServerError:
		return "applied-server-error"
	case AppliedConnectionReset:
		return "applied-connection-reset"
	}
	return ""
}

// Fault is an injected failure. It matches calls by Method (empty: any)
// and Path (a substring of the request path without the Enterprise
// prefix, e.g. "/git/trees"; empty: any); it lets the first After
// matching calls through and then hits the next Times of them (0 means 1).
type Fault struct {
	Kind   FaultKind
	Method string
	Path   string
	After  int
	Times  int
	Status int
	Wait   time.Duration
	// Before, when set, runs just before the hit call is served (or
	// failed), e.g. to move a branch between two calls of the client.
	Before func()
}

// Inject arms a fault. Faults are checked in the order injected.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// PendingFaults is how many armed faults have not yet fired completely.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// takeFault returns the fault for this call, if any, and uses it up.
func (s *Server) takeFault(method, path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Method != "" && f.Method != method) || !strings.Contains(path, f.Path) {
			continue
		}
		if f.After > 0 {
			f.After--
			continue
		}
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		hit := *f
		return &hit
	}
	return nil
}

// Documentation URLs GitHub sends with rate-limit errors; go-github keys
// secondary-limit detection on the fragment.
const (
	primaryLimitDoc   = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit"
	secondaryLimitDoc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)

// writeFault renders a rate-limit or server-error fault.
func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	switch f.Kind {
	case PrimaryRateLimit:
		s.writePrimaryLimit(w, orStatus(f.Status, http.StatusForbidden), s.now().Add(f.Wait))
	case SecondaryRateLimit, TooManyRequests:
		if f.Wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.Wait.Seconds()))))
		}
		status := orStatus(f.Status, http.StatusForbidden)
		if f.Kind == TooManyRequests {
			status = http.StatusTooManyRequests
		}
		writeError(w, status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", secondaryLimitDoc)
	case ServerError, AppliedServerError:
		status := orStatus(f.Status, http.StatusBadGateway)
		writeError(w, status, http.StatusText(status), docsURL)
	}
}

// writePrimaryLimit answers like an exhausted primary limit; a zero reset
// keeps the window's reset already in the headers.
func (s *Server) writePrimaryLimit(w http.ResponseWriter, status int, reset time.Time) {
	h := w.Header()
	h.Set("X-RateLimit-Remaining", "0")
	if !reset.IsZero() {
		h.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(reset.UnixNano())/1e9)), 10))
	}
	writeError(w, status, "API rate limit exceeded for user ID 1.", primaryLimitDoc)
}

func orStatus(status, def int) int {
	if status == 0 {
		return def
	}
	return status
}

// applied serves r into the void, so that its effect happens while the
// client gets the fault instead of the answer.
func (s *Server) applied(r *http.Request) {
	s.mux.ServeHTTP(&voidWriter{header: http.Header{}}, r)
}

// voidWriter is a ResponseWriter that forgets what it is given.
type voidWriter struct{ header http.Header }

func (v *voidWriter) Header() http.Header         { return v.header }
func (v *voidWriter) Write(b []byte) (int, error) { return len(b), nil }
func (v *voidWriter) WriteHeader(int)             {}

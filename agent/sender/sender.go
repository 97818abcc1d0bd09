// Package sender posts batches of status records to the collector's
// POST /api/v1/statuses and classifies its answers for the retry policy.
package sender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// Limits of the collector's batch endpoint.
const (
	MaxItems     = 1000
	MaxBodyBytes = 4 << 20
)

// Path of the batch endpoint below the collector URL.
const Path = "/api/v1/statuses"

// ErrTooLarge means the encoded batch exceeds MaxBodyBytes; it was not
// sent. The caller splits the batch.
var ErrTooLarge = errors.New("batch exceeds the collector's body limit")

// Result is the collector's answer to an accepted batch.
type Result struct {
	Accepted  int `json:"accepted"`
	Unchanged int `json:"unchanged"`
	Stale     int `json:"stale"`
	Bytes     int `json:"-"` // request body size, for metrics
}

// Options configure a Client.
type Options struct {
	// URL is the collector's base URL; Path is appended.
	URL *url.URL
	// Token returns the bearer token, nil for none. Called per request
	// so a rotated token file takes effect.
	Token func() (string, error)
	// HTTP is the client to use; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// UserAgent identifies the agent in the collector's logs.
	UserAgent string
}

// Client sends batches. It is safe for concurrent use.
type Client struct {
	endpoint  string
	token     func() (string, error)
	http      *http.Client
	userAgent string
}

// New returns a Client for opts.URL.
func New(opts Options) *Client {
	hc := opts.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "machinery-status-agent"
	}
	return &Client{
		endpoint:  strings.TrimSuffix(opts.URL.String(), "/") + Path,
		token:     opts.Token,
		http:      hc,
		userAgent: ua,
	}
}

// Send posts records as one batch for cluster. It returns the collector's
// counts on 200, ErrTooLarge without sending when the body would exceed
// MaxBodyBytes or the count MaxItems, and otherwise an *Error describing
// what failed and whether retrying the same batch can help.
func (c *Client) Send(ctx context.Context, cluster string, records []status.Record) (Result, error) {
	if len(records) > MaxItems {
		return Result{}, ErrTooLarge
	}
	body, err := json.Marshal(status.Batch{Cluster: cluster, Items: records})
	if err != nil {
		return Result{}, fmt.Errorf("encode batch: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return Result{}, ErrTooLarge
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != nil {
		tok, err := c.token()
		if err != nil {
			// A missing token file is an operator problem like a 401.
			return Result{}, &Error{StatusCode: http.StatusUnauthorized, Message: err.Error(), Item: -1}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{}, &Error{Message: err.Error(), Item: -1, cause: err}
	}
	defer resp.Body.Close()
	// Bounded read: the answer is a few counters or an error line.
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		var res Result
		if err := json.Unmarshal(raw, &res); err != nil {
			// The batch was stored; a garbled answer must not resend it
			// forever, so accept it and say so in the counts.
			res = Result{Accepted: len(records)}
		}
		res.Bytes = len(body)
		return res, nil
	}
	return Result{Bytes: len(body)}, newError(resp, raw)
}

// Error is a failed send.
type Error struct {
	// StatusCode is the HTTP status, 0 for a transport failure.
	StatusCode int
	// Message is the collector's {"error": ...} text or the transport
	// error; it never contains the token.
	Message string
	// RetryAfter is the collector's Retry-After, 0 when absent.
	RetryAfter time.Duration
	// Item is the index of the rejected record when a 400 names one
	// (items[3].claimRef), else -1.
	Item  int
	cause error
}

// Error says what failed with the collector's own message; no secrets.
func (e *Error) Error() string {
	if e.StatusCode == 0 {
		return "send to collector: " + e.Message
	}
	return fmt.Sprintf("collector answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.cause }

// Retryable reports whether resending the same batch may succeed later:
// transport failures, 408, 429 and 5xx.
func (e *Error) Retryable() bool {
	return e.StatusCode == 0 || e.StatusCode == http.StatusRequestTimeout ||
		e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// Auth reports a 401 or 403: the token is missing, wrong or not allowed to
// write this cluster. Only an operator can fix that.
func (e *Error) Auth() bool {
	return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
}

// LimitReached reports a 409: the collector holds as many claims of this
// cluster as INGEST_MAX_CLAIMS_PER_CLUSTER allows and refused the batch
// because it adds claims. Resending it cannot help until an operator
// raises the limit or claims go away.
func (e *Error) LimitReached() bool { return e.StatusCode == http.StatusConflict }

var itemPath = regexp.MustCompile(`items\[(\d+)\]`)

// newError describes a non-200 answer from its status, Retry-After and
// {"error": ...} body (raw text when not JSON, cut to 512 bytes).
func newError(resp *http.Response, raw []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode, Item: -1}
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		e.Message = body.Error
	} else {
		e.Message = strings.TrimSpace(string(raw))
	}
	if len(e.Message) > 512 {
		e.Message = e.Message[:512] + "..."
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if resp.StatusCode == http.StatusBadRequest {
		if m := itemPath.FindStringSubmatch(e.Message); m != nil {
			e.Item, _ = strconv.Atoi(m[1])
		}
	}
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// unparsable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

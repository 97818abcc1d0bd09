package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

const secret = "s3cr3t-token"

func stub(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/")
	return New(Options{URL: u, Token: func() (string, error) { return secret, nil }})
}

func recs(n int) []status.Record {
	out := make([]status.Record, n)
	for i := range out {
		out[i] = status.Record{ClaimRef: fmt.Sprintf("ns/c%d", i), StatusMessage: "Ready=True", Ready: "True"}
	}
	return out
}

func TestSendPostsBatch(t *testing.T) {
	c := stub(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != Path {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+secret {
			t.Errorf("Authorization = %q", got)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		var b status.Batch
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Cluster != "c1" || len(b.Items) != 3 {
			t.Errorf("batch %+v, %v", b, err)
		}
		fmt.Fprint(w, `{"accepted":2,"unchanged":1,"stale":0}`)
	})
	res, err := c.Send(context.Background(), "c1", recs(3))
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Unchanged != 1 || res.Bytes == 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestSendClassifiesErrors(t *testing.T) {
	tests := []struct {
		code             int
		body, retryAfter string
		retryable, auth  bool
		item             int
		wait             time.Duration
	}{
		{code: 503, body: `{"error":"redis unavailable"}`, retryAfter: "7", retryable: true, item: -1, wait: 7 * time.Second},
		{code: 429, body: `{"error":"slow down"}`, retryable: true, item: -1},
		{code: 500, body: `oops`, retryable: true, item: -1},
		{code: 401, body: `{"error":"missing or bad token"}`, auth: true, item: -1},
		{code: 403, body: `{"error":"token not allowed for cluster c1"}`, auth: true, item: -1},
		{code: 400, body: `{"error":"items[3].claimRef: \"x\" must be namespace/name"}`, item: 3},
		{code: 400, body: `{"error":"cluster: is required"}`, item: -1},
		{code: 415, body: `{"error":"want application/json"}`, item: -1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code, tt.body), func(t *testing.T) {
			c := stub(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.code)
				fmt.Fprint(w, tt.body)
			})
			_, err := c.Send(context.Background(), "c1", recs(5))
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not *Error", err)
			}
			if se.StatusCode != tt.code || se.Retryable() != tt.retryable || se.Auth() != tt.auth || se.Item != tt.item || se.RetryAfter != tt.wait {
				t.Fatalf("got %+v retryable=%v auth=%v", se, se.Retryable(), se.Auth())
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatal("token in error message")
			}
		})
	}
}

func TestSendTransportErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(srv.URL)
	srv.Close() // nothing listens any more
	_, err := New(Options{URL: u}).Send(context.Background(), "c1", recs(1))
	var se *Error
	if !errors.As(err, &se) || !se.Retryable() || se.StatusCode != 0 {
		t.Fatalf("err = %v", err)
	}
}

func TestSendRefusesOversizedBatches(t *testing.T) {
	c := stub(t, func(http.ResponseWriter, *http.Request) { t.Error("oversized batch was sent") })
	if _, err := c.Send(context.Background(), "c1", recs(MaxItems+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("count: err = %v", err)
	}
	big := recs(MaxItems)
	for i := range big {
		big[i].StatusMessage = strings.Repeat("m", MaxBodyBytes/MaxItems)
	}
	if _, err := c.Send(context.Background(), "c1", big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("bytes: err = %v", err)
	}
}

func TestTokenSourceErrorActsLikeUnauthorized(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("sent without a token") }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := New(Options{URL: u, Token: func() (string, error) { return "", errors.New("read COLLECTOR_TOKEN_FILE: no such file") }})
	_, err := c.Send(context.Background(), "c1", recs(1))
	var se *Error
	if !errors.As(err, &se) || !se.Auth() {
		t.Fatalf("err = %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

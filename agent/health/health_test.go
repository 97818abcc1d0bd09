package health

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stuttgart-things/machinery-status-collector/shared/httpserver"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"})
	reg.MustRegister(c)
	var ready error = errors.New("claim informers not synced yet")
	h := Handler(func() error { return ready }, reg)

	if code, _ := get(t, h, "/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if code, body := get(t, h, "/readyz"); code != 503 || !strings.Contains(body, "not synced") {
		t.Fatalf("readyz %d %q", code, body)
	}
	ready = nil
	if code, _ := get(t, h, "/readyz"); code != 200 {
		t.Fatalf("readyz when ready: %d", code)
	}
	if code, body := get(t, h, "/metrics"); code != 200 || !strings.Contains(body, "x_total 0") {
		t.Fatalf("metrics %d %q", code, body)
	}
}

// TestServerShedsIdleClients: the probe server takes its bounds from the
// agent's HTTP_* settings; an idle keep-alive and a client that never
// finishes its headers are closed within them.
func TestServerShedsIdleClients(t *testing.T) {
	cfg := httpserver.Defaults()
	cfg.IdleTimeout, cfg.ReadHeaderTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv := Server(Handler(func() error { return nil }, prometheus.NewRegistry()), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	defer func() { cancel(); <-done }()
	for _, request := range []string{"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: x\r\n"} {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, request)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.Copy(io.Discard, c) // returns when the server closes
		c.Close()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("%q: connection still open after 5s", request)
		}
	}
}

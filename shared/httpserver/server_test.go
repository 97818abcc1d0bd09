package httpserver

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
)

// start serves h with cfg on a loopback port until the returned stop runs;
// stop returns Serve's error.
func start(t *testing.T, h http.Handler, cfg Config) (addr string, logs *servertest.Buffer, stop func() error) {
	t.Helper()
	logs = &servertest.Buffer{}
	s := New("test", h, cfg, slog.New(slog.NewTextHandler(logs, nil)), nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	var once sync.Once
	var serr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case serr = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return after cancel")
			}
		})
		return serr
	}
	t.Cleanup(func() { stop() })
	return l.Addr().String(), logs, stop
}

// closedWithin reads from c until the server closes it and returns how long
// that took; it fails the test if the server keeps it past limit.
func closedWithin(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	begin := time.Now()
	c.SetReadDeadline(begin.Add(limit))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %s", limit)
	}
	return time.Since(begin)
}

func TestSlowAndIdleClientsAreClosed(t *testing.T) {
	// ReadTimeout is the longest: net/http falls back to it for the others.
	cfg := Config{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 3 * time.Second,
		WriteTimeout: time.Second, IdleTimeout: 300 * time.Millisecond, MaxHeaderBytes: 4096, DrainTimeout: time.Second}
	addr, _, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}), cfg)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// A client that never finishes its headers.
	c := dial()
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\n")
	closedWithin(t, c, 2*time.Second)
	// A body that never ends.
	c = dial()
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	closedWithin(t, c, 5*time.Second)
	// An idle keep-alive connection after one answered request.
	c = dial()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("keep-alive request: %v %v", resp, err)
	}
	closedWithin(t, c, 2*time.Second)
	// Headers over MaxHeaderBytes answer 431.
	c = dial()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 8192)+"\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("big headers: %v %v", resp, err)
	}
}

func TestDrain(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hold     time.Duration // how long the in-flight request runs after the shutdown
		wantCode int           // 0: the client sees the connection closed
		wantLog  string
	}{
		{"finishes within the drain", 50 * time.Millisecond, 200, `level=INFO msg="stopped: drained" server=test inFlight=1`},
		{"outlives the drain", 10 * time.Second, 0, `level=WARN msg="stopped: drain timed out, closed the requests still running" server=test inFlight=1 closed=1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			addr, logs, stop := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				select {
				case <-release:
				case <-time.After(tc.hold):
				}
				io.WriteString(w, "done")
			}), Config{ReadHeaderTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: 20 * time.Second,
				IdleTimeout: time.Second, MaxHeaderBytes: 4096, DrainTimeout: 300 * time.Millisecond})
			defer close(release)
			got := make(chan int, 1)
			go func() {
				resp, err := http.Get("http://" + addr + "/")
				if err != nil {
					got <- 0
					return
				}
				resp.Body.Close()
				got <- resp.StatusCode
			}()
			<-entered
			begin := time.Now()
			if err := stop(); err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if took := time.Since(begin); took > 2*time.Second {
				t.Fatalf("shutdown took %s with a 300ms drain bound", took)
			}
			if code := <-got; code != tc.wantCode {
				t.Errorf("client got %d, want %d", code, tc.wantCode)
			}
			if n := strings.Count(logs.String(), "stopped"); n != 1 || !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("want one stop line containing %q, got:\n%s", tc.wantLog, logs.String())
			}
		})
	}
}

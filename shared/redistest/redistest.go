// Package redistest starts a real redis-server for tests, on its own port,
// so tests never depend on (or disturb) a Redis the machine already runs.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process bound to 127.0.0.1 on a free port.
// It keeps nothing on disk, so Restart also wipes the data, like a Redis
// without persistence that crashed.
type Server struct {
	// Addr is host:port; URL is the redis:// form of it.
	Addr string
	URL  string

	tb     testing.TB
	dir    string
	mu     sync.Mutex
	proc   *os.Process
	exited chan error // receives the process's exit once
	client *redis.Client
}

// Start launches redis-server and stops it when the test ends. It fails
// the test when redis-server is not installed (make test installs it).
func Start(tb testing.TB) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatalf("redis-server not found: run `make test` (it installs it) or apt-get install redis-server")
	}
	s := &Server{tb: tb, dir: tb.TempDir()}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("find free port: %v", err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.URL = "redis://" + s.Addr
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		tb.Fatalf("start redis-server: %v", lastErr)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Client returns a client for this server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = redis.NewClient(&redis.Options{Addr: s.Addr})
		s.tb.Cleanup(func() { s.client.Close() })
	}
	return s.client
}

// Stop kills the server; requests fail until Restart. Stopping twice is fine.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.exited
	s.proc = nil
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.start()
		if err == nil {
			return
		}
		// The old socket may linger briefly in the kernel; retry until the deadline.
		if time.Now().After(deadline) {
			s.tb.Fatalf("restart redis-server: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Flush deletes every key, as if Redis had been wiped.
func (s *Server) Flush() {
	s.tb.Helper()
	if err := s.Client().FlushAll(context.Background()).Err(); err != nil {
		s.tb.Fatalf("flushall: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, port, _ := net.SplitHostPort(s.Addr)
	logFile := filepath.Join(s.dir, "redis-"+port+".log")
	cmd := exec.Command("redis-server",
		"--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", logFile)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			log, _ := os.ReadFile(logFile)
			return fmt.Errorf("redis-server exited: %v: %s", err, log)
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			s.proc, s.exited = cmd.Process, done
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("redis-server did not listen on %s within 10s", s.Addr)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
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
	conf   string   // set for a Sentinel: its config file
	extra  []string // flags after the defaults, e.g. cluster mode
	mu     sync.Mutex
	proc   *os.Process
	exited chan error // receives the process's exit once
	client *redis.Client

	password string // requirepass; Client authenticates with it
}

// Start launches redis-server and stops it when the test ends. It fails
// the test when redis-server is not installed (make test installs it).
func Start(tb testing.TB) *Server {
	tb.Helper()
	return launch(tb, &Server{tb: tb, dir: tb.TempDir()})
}

// StartWithPassword launches redis-server with requirepass password;
// Client authenticates with it, URL does not hold it.
func StartWithPassword(tb testing.TB, password string) *Server {
	tb.Helper()
	s := &Server{tb: tb, dir: tb.TempDir(), password: password, extra: []string{"--requirepass", password}}
	return launch(tb, s)
}

// StartCluster launches a one-node Redis Cluster that serves all 16384
// slots: the smallest real cluster, enough to run cluster clients and
// multi-key scripts against.
func StartCluster(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tb: tb, dir: tb.TempDir(), extra: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}}
	launch(tb, s)
	ctx := context.Background()
	if err := s.Client().Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		tb.Fatalf("cluster addslotsrange: %v", err)
	}
	waitFor(tb, "cluster_state:ok", func() bool {
		info, err := s.Client().ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	})
	return s
}

// StartSentinel launches a Sentinel that monitors master under name, and
// returns once it answers for that name.
func StartSentinel(tb testing.TB, master *Server, name string) *Server {
	tb.Helper()
	s := &Server{tb: tb, dir: tb.TempDir()}
	host, port, _ := net.SplitHostPort(master.Addr)
	s.conf = filepath.Join(s.dir, "sentinel.conf")
	conf := fmt.Sprintf("sentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 5000\n", name, host, port, name)
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	launch(tb, s)
	waitFor(tb, "sentinel knows master "+name, func() bool {
		addr, err := s.Client().Do(context.Background(), "SENTINEL", "get-master-addr-by-name", name).StringSlice()
		return err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == master.Addr
	})
	return s
}

// waitFor polls ok until it holds, failing the test after 10s.
func waitFor(tb testing.TB, what string, ok func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: no %s within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// launch starts s on a free port and stops it when the test ends.
func launch(tb testing.TB, s *Server) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Fatalf("redis-server not found: run `make test` (it installs it) or apt-get install redis-server")
	}
	var lastErr error
	for range 5 {
		port := servertest.FreePort(tb)
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
		s.client = redis.NewClient(&redis.Options{Addr: s.Addr, Password: s.password})
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
	// A Sentinel keeps no data, so it takes no persistence flags.
	args := []string{"--save", "", "--appendonly", "no"}
	if s.conf != "" {
		args = []string{s.conf, "--sentinel"}
	}
	args = append(args, s.extra...)
	args = append(args, "--port", port, "--bind", "127.0.0.1", "--dir", s.dir, "--logfile", logFile)
	cmd := exec.Command("redis-server", args...)
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

package collector

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

// TestEmbeddedRedisRun starts the local collector as `make run` does, with
// no REDIS_URL, and drives the seed round trip over real HTTP.
func TestEmbeddedRedisRun(t *testing.T) {
	e := config.FromMap(map[string]string{"COLLECTOR_PORT": "8095"})
	cfg := ConfigFromEnv(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	c, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.Contains(logs.String(), "REDIS_URL is not set: using an embedded in-process Redis") {
		t.Fatalf("no clear line about the embedded Redis:\n%s", logs.String())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, l) }()
	base := "http://" + l.Addr().String()
	resp, err := http.Post(base+"/api/v1/status", "application/json",
		strings.NewReader(`{"cluster":"cluster-01","claimRef":"default/my-db","statusMessage":"Resource is available"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("POST = %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(base + "/api/v1/status/cluster-01")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"claimRef":"default/my-db"`) {
		t.Fatalf("GET = %s", body)
	}
	resp, err = http.Post(base+"/reconcile", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "set REGISTRY_FILE_PATH") {
		t.Fatalf("POST /reconcile without a registry = %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

// TestLocalReconcile is the README walkthrough: a registry file on disk,
// a batch, POST /reconcile, and the proposal in the local PR folder.
func TestLocalReconcile(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry.yaml")
	orig := "cluster-01:\n  - name: hacky\n    namespace: default\n    claimRef: default/hacky\n    statusMessage: unknown\n    lastCheckedAt: \"2026-01-01T00:00:00Z\"\n"
	os.WriteFile(reg, []byte(orig), 0o644)
	e := config.FromMap(map[string]string{"REGISTRY_FILE_PATH": reg, "REGISTRY_LOCAL_PR_DIR": filepath.Join(dir, "pr")})
	cfg := ConfigFromEnv(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := httptest.NewServer(c.server.Handler)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/v1/statuses", "application/json", strings.NewReader(
		`{"cluster":"cluster-01","items":[{"claimRef":"default/hacky","statusMessage":"Available","ready":"True","observedAt":"2026-11-25T10:00:00Z"}]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("batch: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Post(srv.URL+"/reconcile", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"outcome":"opened"`) {
		t.Fatalf("POST /reconcile = %d %s", resp.StatusCode, body)
	}
	proposed, err := os.ReadFile(filepath.Join(dir, "pr", "registry.yaml"))
	if err != nil || !strings.Contains(string(proposed), "statusMessage: Available") {
		t.Fatalf("proposal: %v\n%s", err, proposed)
	}
	if now, _ := os.ReadFile(reg); string(now) != orig {
		t.Fatal("the local publisher modified the registry file on disk")
	}
}

// A bad REDIS_URL scheme is one of the problems reported at start, beside
// the others, not a second round after they are fixed.
func TestConfigReportsRedisSchemeWithOtherProblems(t *testing.T) {
	e := config.FromMap(map[string]string{"REDIS_URL": "http://x", "COLLECTOR_PORT": "0"})
	ConfigFromEnv(e)
	want := `invalid configuration (2 problems):
  COLLECTOR_PORT: 0 is out of range [1, 65535]
  REDIS_URL: scheme "http" not supported (use redis, rediss, unix, redis+sentinel or redis+cluster)`
	if err := e.Err(); err == nil || err.Error() != want {
		t.Fatalf("Err() =\n%v\nwant\n%s", err, want)
	}
}

package collector

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
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

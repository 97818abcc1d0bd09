package collector

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
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
	postMyDB(t, base)
	resp, err := http.Get(base + "/api/v1/status/cluster-01")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
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
	srv := serveLocal(t, map[string]string{"REGISTRY_FILE_PATH": reg, "REGISTRY_LOCAL_PR_DIR": filepath.Join(dir, "pr")})
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

func TestConfigListenAddress(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		wantHost string
		wantPort int
		wantErr  string
	}{
		{"loopback by default", nil, "127.0.0.1", 8095, ""},
		{"COLLECTOR_PORT still works", map[string]string{"COLLECTOR_PORT": "9000"}, "127.0.0.1", 9000, ""},
		{"every interface, open on purpose", map[string]string{"COLLECTOR_ADDR": "0.0.0.0", "INGEST_AUTH": "none"}, "0.0.0.0", 8095, ""},
		{"every interface with tokens", map[string]string{"COLLECTOR_ADDR": "0.0.0.0", "INGEST_TOKENS": "*=a-long-random-admin-token"}, "0.0.0.0", 8095, ""},
		{"every interface fails closed", map[string]string{"COLLECTOR_ADDR": "0.0.0.0"}, "0.0.0.0", 8095,
			"INGEST_AUTH: no tokens: set INGEST_TOKENS or INGEST_TOKENS_FILE (with at least one entry), or INGEST_AUTH=none to serve an open API deliberately"},
		{"IPv6, open on purpose", map[string]string{"COLLECTOR_ADDR": "::", "INGEST_AUTH": "none"}, "::", 8095, ""},
		{"IPv6 loopback stays open", map[string]string{"COLLECTOR_ADDR": "::1"}, "::1", 8095, ""},
		{"open and tokens contradict", map[string]string{"INGEST_AUTH": "none", "INGEST_TOKENS": "*=a-long-random-admin-token"}, "127.0.0.1", 8095,
			"INGEST_AUTH: is none but INGEST_TOKENS or INGEST_TOKENS_FILE holds tokens; unset one of them"},
		{"a port in the address", map[string]string{"COLLECTOR_ADDR": "0.0.0.0:9000"}, "0.0.0.0:9000", 8095,
			`COLLECTOR_ADDR: "0.0.0.0:9000" holds a port (9000); give the interface only (127.0.0.1, 0.0.0.0, ::) and the port in COLLECTOR_PORT`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := config.FromMap(tc.env)
			c := ConfigFromEnv(e)
			if c.Host != tc.wantHost || c.Port != tc.wantPort {
				t.Errorf("listen %s port %d, want %s port %d", c.Host, c.Port, tc.wantHost, tc.wantPort)
			}
			err := ""
			if e.Err() != nil {
				err = e.Err().Error()
			}
			if (tc.wantErr == "") != (err == "") || !strings.Contains(err, tc.wantErr) {
				t.Errorf("error %q, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestListensOnLoopback runs the collector as make run does and checks
// its one start line: the loopback address, the mode and the build.
func TestListensOnLoopback(t *testing.T) {
	port := servertest.FreePort(t)
	e := config.FromMap(map[string]string{"COLLECTOR_PORT": strconv.Itoa(port)})
	cfg := ConfigFromEnv(e)
	logs := &servertest.Buffer{}
	c, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.ListenAndServe(ctx) }()
	want := fmt.Sprintf(`msg="collector listening" addr=127.0.0.1:%d redis=embedded auth=open reconcile=off version=dev commit=`, port)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no start line %q:\n%s", want, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "listening"); n != 1 {
		t.Errorf("%d start lines", n)
	}
}

// TestReconcileNeedsAWildcardToken: with tokens set, POST /reconcile
// answers 401 without a token, 403 to a cluster's token, and runs for "*".
func TestReconcileNeedsAWildcardToken(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry.yaml")
	os.WriteFile(reg, []byte("cluster-01: []\n"), 0o644)
	srv := serveLocal(t, map[string]string{
		"REGISTRY_FILE_PATH": reg, "REGISTRY_LOCAL_PR_DIR": filepath.Join(dir, "pr"),
		"INGEST_TOKENS": "cluster-01=token-of-cluster-01,*=token-of-the-admin-x",
	})
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", 401},
		{"Bearer token-of-cluster-01", 403},
		{"Bearer not-a-known-token-at-all", 401},
		{"bearer token-of-the-admin-x", 200},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/reconcile", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("POST /reconcile with %q = %d %s, want %d", tc.auth, resp.StatusCode, body, tc.want)
		}
	}
}

// serveLocal builds the collector from env and serves its handler until
// the test ends.
func serveLocal(t *testing.T, env map[string]string) *httptest.Server {
	t.Helper()
	e := config.FromMap(env)
	cfg := ConfigFromEnv(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	srv := httptest.NewServer(c.handler)
	t.Cleanup(srv.Close)
	return srv
}

// With REDIS_URL, the local collector reads REDIS_PASSWORD_FILE as the
// deployed functions do: the right password lets it in, a missing or
// wrong one fails New naming the variable and never holding the password,
// and the file without REDIS_URL is a configuration error.
func TestRedisPasswordFile(t *testing.T) {
	const secret = "local-redis-password-0123456789"
	srv := redistest.StartWithPassword(t, secret)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	right, wrong := file("right", secret+"\n"), file("wrong", "not-"+secret+"\n")
	for _, tc := range []struct {
		name              string
		env               map[string]string
		configErr, newErr string
	}{
		{"right password", map[string]string{"REDIS_URL": srv.URL, "REDIS_PASSWORD_FILE": right}, "", ""},
		{"no password", map[string]string{"REDIS_URL": srv.URL}, "",
			"REDIS_PASSWORD_FILE: Redis requires a password and none was given; mount the redis-password Secret and point REDIS_PASSWORD_FILE at it"},
		{"wrong password", map[string]string{"REDIS_URL": srv.URL, "REDIS_PASSWORD_FILE": wrong}, "",
			"REDIS_PASSWORD_FILE: Redis refused the password; it differs from the one Redis was started with"},
		{"file without REDIS_URL", map[string]string{"REDIS_PASSWORD_FILE": right},
			"invalid configuration (1 problem):\n  REDIS_PASSWORD_FILE: is set but REDIS_URL is not: the embedded Redis takes no password; set REDIS_URL to the Redis it belongs to, or unset it", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := config.FromMap(tc.env)
			cfg := ConfigFromEnv(e)
			got := ""
			if err := e.Err(); err != nil {
				got = err.Error()
			}
			if got != tc.configErr {
				t.Fatalf("config error %q, want %q", got, tc.configErr)
			}
			if got != "" {
				return
			}
			c, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if tc.newErr != "" {
				if err == nil || err.Error() != tc.newErr {
					t.Fatalf("New: %v, want %s", err, tc.newErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			hs := httptest.NewServer(c.handler)
			defer hs.Close()
			postMyDB(t, hs.URL)
			// The status is in the Redis behind the password.
			recs, err := store.New(srv.Client(), "").ClusterRecords(context.Background(), "cluster-01")
			if err != nil || len(recs) != 1 || recs[0].ClaimRef != "default/my-db" {
				t.Fatalf("records in the password-protected Redis: %+v %v", recs, err)
			}
		})
	}
}

// postMyDB posts the README's example status for cluster-01 to the
// collector at base and fails the test unless it answers 201.
func postMyDB(t *testing.T, base string) {
	t.Helper()
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
}

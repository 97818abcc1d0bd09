package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
)

// The command, built once per test binary into cmdDir (removed by TestMain).
var (
	cmdOnce sync.Once
	cmdDir  string
	cmdBin  string
	cmdErr  error
)

// TestMain removes the command built by buildCmd after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if cmdDir != "" {
		_ = os.RemoveAll(cmdDir)
	}
	os.Exit(code)
}

// buildCmd compiles functions/reconcile/cmd once per test binary: every
// test that runs the command shares the build.
func buildCmd(t testing.TB) string {
	t.Helper()
	cmdOnce.Do(func() {
		if cmdDir, cmdErr = os.MkdirTemp("", "reconcile-cmd-"); cmdErr != nil {
			return
		}
		cmdBin = filepath.Join(cmdDir, "reconcile")
		if out, err := exec.Command("go", "build", "-o", cmdBin, "./cmd").CombinedOutput(); err != nil {
			cmdErr = fmt.Errorf("go build ./cmd: %v\n%s", err, out)
		}
	})
	if cmdErr != nil {
		t.Fatal(cmdErr)
	}
	return cmdBin
}

func (e *env) cmdEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "REDIS_URL=" + e.redis.URL, "LOG_FORMAT=json"}
	for k, v := range e.vars {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

// TestPingSourceEventTriggersRun serves the function the way Knative does
// (functions-framework, FUNCTION_TARGET=reconcile, $PORT) and sends it the
// binary-mode CloudEvent a PingSource sends.
func TestPingSourceEventTriggersRun(t *testing.T) {
	e := newEnv(t, 5)
	e.put("Available", 0)
	bin := buildCmd(t)
	port, metricsPort := servertest.FreePort(t), servertest.FreePort(t)
	cmd := exec.Command(bin)
	cmd.Env = e.cmdEnv("PORT="+strconv.Itoa(port), "FUNCTION_TARGET=reconcile", "METRICS_PORT="+strconv.Itoa(metricsPort))
	logs := &servertest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	waitFor(t, "the function to listen", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 50*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"message":"tick"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Type", "dev.knative.sources.ping")
	req.Header.Set("Ce-Source", "/apis/v1/namespaces/msc/pingsources/reconcile")
	req.Header.Set("Ce-Id", "a1b2c3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("event answered %d; logs:\n%s", resp.StatusCode, logs.String())
	}
	if pulls := e.repo.OpenPulls(); len(pulls) != 1 {
		t.Fatalf("%d open PRs after the event; logs:\n%s", len(pulls), logs.String())
	}
	if strings.Contains(logs.String(), ghToken) {
		t.Fatal("token in the function's log")
	}
	resp, err = http.Get("http://127.0.0.1:" + strconv.Itoa(metricsPort) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`msc_reconcile_runs_total{outcome="opened"} 1`, `msc_reconcile_github_calls_total{endpoint="POST pulls",status="201"} 1`,
		`msc_reconcile_commits_total{reason="unsigned",verified="false"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}

func TestOnceExitCodes(t *testing.T) {
	e := newEnv(t, 5)
	e.put("Available", 0)
	bin := buildCmd(t)
	run := func(extra ...string) (int, Result, string) {
		cmd := exec.Command(bin, "--once")
		cmd.Env = e.cmdEnv(extra...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		var res Result
		json.Unmarshal(stdout.Bytes(), &res)
		return code, res, stdout.String() + stderr.String()
	}
	if code, res, out := run(); code != 0 || res.Outcome != "opened" {
		t.Fatalf("--once: exit %d, %+v\n%s", code, res, out)
	}
	e.repo.SetFile("main", regPath, []byte("cluster-a: [\n"))
	e.put("Broken", 1)
	if code, res, out := run(); code != 1 || res.Outcome != OutcomeFailed {
		t.Fatalf("--once on a broken registry: exit %d, %+v\n%s", code, res, out)
	}
	if code, _, out := run("REGISTRY_REPO_OWNER=", "GITHUB_APP_ID=x"); code != 2 || !strings.Contains(out, "REGISTRY_REPO_OWNER") {
		t.Fatalf("--once with bad config: exit %d\n%s", code, out)
	}
}

// start runs the built command with env and waits until it listens on
// port; the test ends it.
func start(t *testing.T, bin string, port int, env []string) (*exec.Cmd, *servertest.Buffer) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(env, "PORT="+strconv.Itoa(port))
	logs := &servertest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "the function to listen", func() bool { return strings.Contains(logs.String(), "reconcile listening") })
	return cmd, logs
}

// TestServedFunction checks what the served function answers besides
// CloudEvents, its one start line, and its drain on SIGTERM.
func TestServedFunction(t *testing.T) {
	e := newEnv(t, 1)
	bin := buildCmd(t)
	port := servertest.FreePort(t)
	cmd, logs := start(t, bin, port, e.cmdEnv("FUNCTION_TARGET=reconcile"))
	line := `"msg":"reconcile listening","addr":"[::]:` + strconv.Itoa(port) + `","target":"reconcile","publisher":"GitHub platform/registry","warmup":"0s","metricsPort":0,"version":"dev","commit":"`
	if !strings.Contains(logs.String(), line) {
		t.Errorf("start line lacks %s:\n%s", line, logs.String())
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	hint := `{"error":"not a CloudEvent: a reconcile is triggered by a POST carrying the CloudEvent headers Ce-Id, Ce-Specversion, Ce-Type and Ce-Source (binary mode) or a Content-Type of application/cloudevents+json","hint":"curl -X POST http://HOST/ -H 'Ce-Id: manual-1' -H 'Ce-Specversion: 1.0' -H 'Ce-Type: dev.knative.sources.ping' -H 'Ce-Source: manual'"}` + "\n"
	for _, tc := range []struct {
		method, path, contentType, body string
		wantCode                        int
		wantBody                        string
	}{
		{"GET", "/healthz", "", "", 200, `{"status":"ok"}` + "\n"},
		{"GET", "/", "", "", 400, hint},
		{"POST", "/", "application/json", `{"message":"tick"}`, 400, hint},
		{"GET", "/metrics", "", "", 400, hint},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.wantCode || string(body) != tc.wantBody || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s = %d %s %q, want %d %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.wantCode, tc.wantBody)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"stopped: drained","server":"reconcile"`) {
		t.Errorf("no drain line:\n%s", logs.String())
	}
}

func TestWrongFunctionTarget(t *testing.T) {
	e := newEnv(t, 1)
	cmd := exec.Command(buildCmd(t))
	cmd.Env = e.cmdEnv("FUNCTION_TARGET=ingest", "PORT="+strconv.Itoa(servertest.FreePort(t)))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), `FUNCTION_TARGET: "ingest" is not a function of this binary, which serves "reconcile"`) {
		t.Fatalf("exit %v:\n%s", err, out)
	}
}

// TestWarmupDefault: the warm-up guards a real pull request, so with the
// local publisher it is off unless RECONCILE_WARMUP sets it.
func TestWarmupDefault(t *testing.T) {
	local := map[string]string{"REGISTRY_FILE_PATH": "registry.yaml"}
	github := map[string]string{"REGISTRY_FILE_PATH": "registry.yaml", "GITHUB_TOKEN": "x", "REGISTRY_REPO_OWNER": "o", "REGISTRY_REPO_NAME": "r"}
	with := func(m map[string]string, k, v string) map[string]string {
		c := map[string]string{k: v}
		for a, b := range m {
			c[a] = b
		}
		return c
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want time.Duration
	}{
		{"local publisher", local, 0},
		{"local publisher, set", with(local, "RECONCILE_WARMUP", "5m"), 5 * time.Minute},
		{"GitHub", github, DefaultWarmup},
		{"GitHub, set", with(github, "RECONCILE_WARMUP", "0"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := config.FromMap(tc.env)
			if got := readConfig(e).Warmup; got != tc.want || e.Err() != nil {
				t.Errorf("warm-up %s (%v), want %s", got, e.Err(), tc.want)
			}
		})
	}
}

// TestOnceLocal is `reconcile --once` against a registry on disk with
// RECONCILE_WARMUP unset: it publishes at once, into the local folder.
func TestOnceLocal(t *testing.T) {
	e := newEnv(t, 2)
	e.put("Available", 0)
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry.yaml")
	os.WriteFile(reg, []byte(seedRegistry(2)), 0o644)
	cmd := exec.Command(buildCmd(t), "--once")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "REDIS_URL=" + e.redis.URL,
		"REGISTRY_FILE_PATH=" + reg, "REGISTRY_LOCAL_PR_DIR=" + filepath.Join(dir, "pr")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("--once: %v\n%s%s", err, &stdout, &stderr)
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Outcome != "opened" {
		t.Fatalf("--once = %+v (%v)\n%s", res, err, &stderr)
	}
	if want := `"msg":"reconcile --once starting","publisher":"local folder ` + filepath.Join(dir, "pr") + `","warmup":"0s"`; !strings.Contains(stderr.String(), want) {
		t.Errorf("no start line %s:\n%s", want, &stderr)
	}
}

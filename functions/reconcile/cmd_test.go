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
	"testing"
	"time"
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
	port, metricsPort := freePort(t), freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = e.cmdEnv("PORT="+strconv.Itoa(port), "FUNCTION_TARGET=reconcile", "METRICS_PORT="+strconv.Itoa(metricsPort))
	logs := &syncBuffer{}
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

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

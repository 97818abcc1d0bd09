package reconcile

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
)

// runMake starts `make target` at the repository root with env added, in
// its own process group, which the test ends with SIGTERM as Ctrl-C would.
func runMake(t *testing.T, target string, env ...string) *servertest.Buffer {
	t.Helper()
	cmd := exec.Command("make", "--no-print-directory", "-C", "../..", target)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := &servertest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	return logs
}

// TestRunEachFunctionAlone is the README's "Run each function alone":
// make run-ingest starts a throw-away Redis, make run-reconcile shares it,
// a status goes to the ingest, and the PingSource's CloudEvent headers
// sent with curl's flags make the reconcile publish into the local folder.
func TestRunEachFunctionAlone(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server")
	}
	dir := t.TempDir()
	reg := filepath.Join(dir, "registry.yaml")
	os.WriteFile(reg, []byte(seedRegistry(1)), 0o644)
	redisPort, ingestPort, reconcilePort := servertest.FreePort(t), servertest.FreePort(t), servertest.FreePort(t)
	env := []string{"LOCAL_REDIS_PORT=" + strconv.Itoa(redisPort), "REDIS_URL=", "LOG_FORMAT=json",
		"INGEST_TOKENS=", "INGEST_TOKENS_FILE=", "INGEST_AUTH=", "RECONCILE_WARMUP=", "GITHUB_TOKEN=", "GITHUB_APP_ID="}
	ingestLogs := runMake(t, "run-ingest", append(env, "PORT="+strconv.Itoa(ingestPort))...)
	waitFor(t, "make run-ingest to listen", func() bool { return strings.Contains(ingestLogs.String(), `"msg":"ingest listening"`) })
	recLogs := runMake(t, "run-reconcile", append(env, "PORT="+strconv.Itoa(reconcilePort),
		"REGISTRY_FILE_PATH="+reg, "REGISTRY_LOCAL_PR_DIR="+filepath.Join(dir, "pr"))...)
	waitFor(t, "make run-reconcile to listen", func() bool { return strings.Contains(recLogs.String(), `"msg":"reconcile listening"`) })
	for _, want := range []string{
		"REDIS_URL is not set: started redis-server on 127.0.0.1:" + strconv.Itoa(redisPort),
		`"auth":"open"`, `"level":"WARN","msg":"no ingest tokens configured`,
	} {
		if !strings.Contains(ingestLogs.String(), want) {
			t.Errorf("run-ingest output lacks %s:\n%s", want, ingestLogs.String())
		}
	}
	for _, want := range []string{"using the redis-server already on 127.0.0.1:" + strconv.Itoa(redisPort), `"publisher":"local folder ` + filepath.Join(dir, "pr") + `","warmup":"0s"`} {
		if !strings.Contains(recLogs.String(), want) {
			t.Errorf("run-reconcile output lacks %s:\n%s", want, recLogs.String())
		}
	}
	resp, err := http.Post("http://127.0.0.1:"+strconv.Itoa(ingestPort)+"/api/v1/statuses", "application/json", strings.NewReader(
		`{"cluster":"cluster-a","items":[{"claimRef":"team/claim-0","statusMessage":"Available","ready":"True","observedAt":"2026-11-25T10:00:00Z"}]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST to run-ingest: %v %v", resp, err)
	}
	resp.Body.Close()
	// The README's curl: the PingSource's headers, no body.
	out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://127.0.0.1:"+strconv.Itoa(reconcilePort)+"/",
		"-H", "Ce-Id: manual-1", "-H", "Ce-Specversion: 1.0", "-H", "Ce-Type: dev.knative.sources.ping", "-H", "Ce-Source: manual").CombinedOutput()
	if err != nil || string(out) != "200" {
		t.Fatalf("curl = %s %v\n%s", out, err, recLogs.String())
	}
	proposed, err := os.ReadFile(filepath.Join(dir, "pr", "registry.yaml"))
	if err != nil || !strings.Contains(string(proposed), "statusMessage: Available") {
		t.Fatalf("proposal: %v\n%s\n%s", err, proposed, recLogs.String())
	}
}

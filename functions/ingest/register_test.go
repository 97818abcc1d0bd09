package ingest

import (
	"bufio"
	"context"
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

	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
)

// ingestBinary builds functions/ingest/cmd, the deployed binary, with
// flags (such as the Makefile's -ldflags).
func ingestBinary(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ingest")
	args := append(append([]string{"build", "-o", bin}, flags...), "./cmd")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd: %v\n%s", err, out)
	}
	return bin
}

// runIngest starts bin with env (plus PATH and REDIS_URL) and returns the
// process and its log; the test ends it.
func runIngest(t *testing.T, bin string, env ...string) (*exec.Cmd, *servertest.Buffer) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "LOG_FORMAT=json"}, env...)
	logs := &servertest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, logs
}

// waitOutput polls out until it holds want.
func waitOutput(t *testing.T, out *servertest.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output never held %q:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStartRefusesAnOpenAPI: the deployed ingest does not start without
// tokens unless INGEST_AUTH=none says so, and then warns.
func TestStartRefusesAnOpenAPI(t *testing.T) {
	r := redistest.Start(t)
	const bi = "github.com/stuttgart-things/machinery-status-collector/shared/buildinfo"
	bin := ingestBinary(t, "-ldflags", "-X "+bi+".Version=v1.2.3 -X "+bi+".Revision=0123abcd")
	empty := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(empty, []byte("# no entries yet\n"), 0o600)
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"no tokens", nil, "INGEST_AUTH: no tokens: set INGEST_TOKENS or INGEST_TOKENS_FILE (with at least one entry), or INGEST_AUTH=none to serve an open API deliberately"},
		{"an empty tokens file", []string{"INGEST_TOKENS_FILE=" + empty}, "INGEST_AUTH: no tokens"},
		{"none and tokens", []string{"INGEST_AUTH=none", "INGEST_TOKENS=a=" + tokenA}, "INGEST_AUTH: is none but INGEST_TOKENS or INGEST_TOKENS_FILE holds tokens"},
		{"a typo", []string{"INGEST_AUTH=off"}, `INGEST_AUTH: "off" is not tokens or none`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A binary that starts instead of refusing is killed after 20s.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = append([]string{"REDIS_URL=" + r.URL, "PORT=" + strconv.Itoa(servertest.FreePort(t))}, tc.env...)
			out, err := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), tc.want) {
				t.Fatalf("exit %d (%v), want 2 and %q:\n%s", code, err, tc.want, out)
			}
		})
	}
	port := servertest.FreePort(t)
	_, logs := runIngest(t, bin, "REDIS_URL="+r.URL, "PORT="+strconv.Itoa(port), "INGEST_AUTH=none")
	waitOutput(t, logs, `"msg":"ingest listening","addr":"[::]:`+strconv.Itoa(port)+`","target":"ingest","auth":"open","tokens":0,"version":"v1.2.3","commit":"0123abcd"}`)
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"no ingest tokens configured`) {
		t.Errorf("no warning about the open API:\n%s", logs.String())
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/version")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"version":"v1.2.3","commit":"0123abcd"}` + "\n"; string(body) != want {
		t.Errorf("/version = %q, want %q", body, want)
	}
}

// metric scrapes one unlabelled sample from the ingest's /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// TestSlowClientsAreShed runs the ingest binary with short HTTP_* bounds
// and holds 200 connections that trickle their headers, 50 that trickle
// a body and 50 idle keep-alives: each is closed within its bound, the
// heap stays bounded meanwhile, and SIGTERM drains and logs one line.
func TestSlowClientsAreShed(t *testing.T) {
	const (
		headerTimeout = time.Second
		readTimeout   = 5 * time.Second // longer than the others, which fall back to it when unset
		idleTimeout   = time.Second
		slack         = 2 * time.Second // scheduling on a busy 2-core machine
		heapBound     = 32 << 20
	)
	r := redistest.Start(t)
	port := servertest.FreePort(t)
	cmd, logs := runIngest(t, ingestBinary(t), "REDIS_URL="+r.URL, "PORT="+strconv.Itoa(port), "INGEST_TOKENS=*="+tokenAll,
		"HTTP_READ_HEADER_TIMEOUT="+headerTimeout.String(), "HTTP_READ_TIMEOUT="+readTimeout.String(),
		"HTTP_IDLE_TIMEOUT="+idleTimeout.String(), "HTTP_WRITE_TIMEOUT=5s", "HTTP_DRAIN_TIMEOUT=5s")
	waitOutput(t, logs, `"msg":"ingest listening"`)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	base := "http://" + addr
	heapBefore := metric(t, base, "go_memstats_heap_inuse_bytes")

	type kind struct {
		name    string
		n       int
		opening string        // written at once
		trickle string        // then written every 100ms until the server closes
		answer  bool          // read one answer first (a keep-alive)
		bound   time.Duration // the configured bound that must close it
	}
	kinds := []kind{
		{"header trickler", 200, "POST /api/v1/statuses HTTP/1.1\r\nHost: x\r\n", "X-Slow: y\r\n", false, headerTimeout},
		{"slow body", 50, "POST /api/v1/statuses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tokenAll +
			"\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{", " ", false, readTimeout},
		{"idle keep-alive", 50, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "", true, idleTimeout},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	worst := map[string]time.Duration{}
	errs := make(chan error, 300)
	for _, k := range kinds {
		for range k.n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", addr)
				if err != nil {
					errs <- fmt.Errorf("%s: %v", k.name, err)
					return
				}
				defer c.Close()
				begin := time.Now()
				io.WriteString(c, k.opening)
				br := bufio.NewReader(c)
				if k.answer {
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						errs <- fmt.Errorf("%s: %v", k.name, err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					begin = time.Now() // idle from here
				}
				closed := make(chan struct{})
				go func() { io.Copy(io.Discard, br); close(closed) }() // ends when the server closes
				c.SetReadDeadline(begin.Add(k.bound + slack))
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-closed:
						took := time.Since(begin)
						mu.Lock()
						worst[k.name] = max(worst[k.name], took)
						mu.Unlock()
						if took > k.bound+slack {
							errs <- fmt.Errorf("%s: closed after %s, bound %s", k.name, took, k.bound)
						}
						return
					case <-tick.C:
						if k.trickle != "" {
							c.SetWriteDeadline(time.Now().Add(time.Second))
							io.WriteString(c, k.trickle)
						}
					}
				}
			}()
		}
	}
	// Watch the heap while the connections are held.
	stop := make(chan struct{})
	peak, peakGoroutines := heapBefore, 0.0
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			peak = max(peak, metric(t, base, "go_memstats_heap_inuse_bytes"))
			peakGoroutines = max(peakGoroutines, metric(t, base, "go_goroutines"))
		}
	}()
	wg.Wait()
	close(stop)
	<-watched
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	goroutinesAfter := metric(t, base, "go_goroutines")
	t.Logf("closed within: %v; heap in use %.1f MiB before, %.1f MiB peak (+%.1f MiB); goroutines peak %.0f, after %.0f",
		worst, heapBefore/(1<<20), peak/(1<<20), (peak-heapBefore)/(1<<20), peakGoroutines, goroutinesAfter)
	if peak-heapBefore > heapBound {
		t.Errorf("heap grew by %.1f MiB holding 300 slow clients, bound %d MiB", (peak-heapBefore)/(1<<20), heapBound>>20)
	}
	if peakGoroutines < 250 {
		t.Errorf("peak of %.0f goroutines: the slow clients were not all held at once", peakGoroutines)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if n := strings.Count(logs.String(), `"msg":"stopped: drained","server":"ingest"`); n != 1 {
		t.Errorf("%d drain lines:\n%s", n, logs.String())
	}
}

package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// fleetClusters is the seed layout's spread of claims over clusters.
const fleetClusters = 100

// fleet writes a seed-layout registry of n claims over 100 clusters into
// dir (one file, or with sharded one file per cluster) and returns the
// files and the records for every claim, a tenth of them with a new
// message (the table of issue 13).
func fleet(dir string, n int, sharded bool) ([]string, []status.Record, error) {
	var files []string
	recs := make([]status.Record, 0, n)
	var b []byte
	flush := func(name string) error {
		p := filepath.Join(dir, name)
		files = append(files, p)
		err := os.WriteFile(p, b, 0o644)
		b = b[:0]
		return err
	}
	for c := range fleetClusters {
		cluster := fmt.Sprintf("cluster-%03d", c)
		b = append(b, cluster+":\n"...)
		for i := c; i < n; i += fleetClusters {
			ns, name := "team-"+strconv.Itoa(i%17), fmt.Sprintf("claim-%07d", i)
			b = append(b, "  - name: "+name+"\n    namespace: "+ns+"\n    claimRef: "+ns+"/"+name+"\n    statusMessage: Available\n    lastCheckedAt: \"2026-01-01T00:00:00Z\"\n"...)
			msg := "Available"
			if i%10 == 0 {
				msg = "cannot apply: connection refused"
			}
			recs = append(recs, status.Record{Cluster: cluster, ClaimRef: ns + "/" + name, StatusMessage: msg, Ready: "True", ObservedAt: "2026-11-25T10:00:00Z"})
		}
		if sharded {
			if err := flush(cluster + ".yaml"); err != nil {
				return nil, nil, err
			}
		}
	}
	if !sharded {
		if err := flush("registry.yaml"); err != nil {
			return nil, nil, err
		}
	}
	return files, recs, nil
}

// processRun is one measured child process.
type processRun struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	maxRSS int64         // bytes
	stdout []byte
}

// measure runs a command to completion and reports its wall time and
// peak resident set. The peak comes from GNU time, whose fork gives the
// command a fresh accounting: a child started straight from this process
// inherits this process's own peak RSS in wait4's ru_maxrss (Linux keeps
// the larger of the two across exec), which here includes the seeding.
func measure(cmd *exec.Cmd) (processRun, error) {
	out, err := os.CreateTemp("", "maxrss-*")
	if err != nil {
		return processRun{}, err
	}
	out.Close()
	defer os.Remove(out.Name())
	timed := exec.Command("/usr/bin/time", append([]string{"-f", "%U %S %M", "-o", out.Name(), cmd.Path}, cmd.Args[1:]...)...)
	timed.Env = cmd.Env
	var stdout, stderr bytes.Buffer
	timed.Stdout, timed.Stderr = &stdout, &stderr
	start := time.Now()
	err = timed.Run()
	r := processRun{wall: time.Since(start), stdout: stdout.Bytes()}
	if err != nil {
		return r, fmt.Errorf("%s: %w\n%s", cmd.Path, err, tailOf(stderr.String()))
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		return r, err
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return r, fmt.Errorf("/usr/bin/time wrote %q", b)
	}
	f = f[len(f)-3:] // after any line GNU time adds (a signal, an exit status)
	user, uerr := strconv.ParseFloat(f[0], 64)
	sys, serr := strconv.ParseFloat(f[1], 64)
	kib, err := strconv.ParseInt(f[2], 10, 64)
	if err = errors.Join(uerr, serr, err); err != nil {
		return r, fmt.Errorf("/usr/bin/time wrote %q: %w", b, err)
	}
	r.cpu = time.Duration((user + sys) * float64(time.Second))
	r.maxRSS = kib * 1024
	return r, nil
}

func tailOf(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// BenchmarkOnceProcess measures `reconcile --once` as a whole process, as
// a CronJob runs it: a real redis-server holding every claim's record
// (seed layout, 100 clusters, a tenth changed), the local publisher, a
// changed run with no memory of a previous publish (every file read).
// It reports wall time, CPU time (user + system: on a shared machine the
// steadier figure) and peak RSS (GNU time), per claim, beside a process
// that only parses the same files with yaml.v3 (the floor), and the
// GitHub calls of the same run against the fake GitHub. claims=1000000
// is sharded, one file per cluster ({cluster} template); it runs only
// with MSC_BENCH_1M=1, as it needs about a minute and 2 GB.
func BenchmarkOnceProcess(b *testing.B) {
	sizes := []int{1_000, 10_000, 100_000}
	if os.Getenv("MSC_BENCH_1M") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	bin := buildCmd(b)
	for _, n := range sizes {
		b.Run(fmt.Sprintf("claims=%d", n), func(b *testing.B) { benchOnce(b, bin, n, n >= 1_000_000) })
	}
}

func benchOnce(b *testing.B, bin string, n int, sharded bool) {
	dir := b.TempDir()
	regDir := filepath.Join(dir, "registry")
	if err := os.MkdirAll(regDir, 0o755); err != nil {
		b.Fatal(err)
	}
	files, recs, err := fleet(regDir, n, sharded)
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, f := range files {
		st, _ := os.Stat(f)
		size += st.Size()
	}
	rd := redistest.Start(b)
	st := store.New(rd.Client(), "")
	ctx := context.Background()
	for len(recs) > 0 {
		k := min(len(recs), 1000)
		for i := range recs[:k] {
			if err := recs[i].Normalize("", time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := st.Apply(ctx, "2026-11-25T11:00:00Z", recs[:k]); err != nil {
			b.Fatal(err)
		}
		recs = recs[k:]
	}
	recs = nil
	pattern := files[0]
	if sharded {
		pattern = filepath.Join(regDir, "{cluster}.yaml")
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "REDIS_URL=" + rd.URL, "REGISTRY_FILE_PATH=" + pattern,
		"REGISTRY_LOCAL_PR_DIR=" + filepath.Join(dir, "pr"), "RECONCILE_WARMUP=0", "RECONCILE_TIMEOUT=10m", "LOG_LEVEL=warn"}
	// Each measured run starts without memory of a previous publish.
	forget := func() {
		if err := rd.Client().Del(ctx, store.DefaultPrefix+":publish", store.DefaultPrefix+":reconciled").Err(); err != nil {
			b.Fatal(err)
		}
	}
	var once, floor processRun
	for b.Loop() {
		forget()
		cmd := exec.Command(bin, "--once")
		cmd.Env = env
		if once, err = measure(cmd); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var res Result
	if err := json.Unmarshal(once.stdout, &res); err != nil || res.Changed != n/10 {
		b.Fatalf("run: %+v %v\n%s", res, err, once.stdout)
	}
	// The floor: a process that parses the same files with yaml.v3.
	fl := exec.Command(os.Args[0], "-test.run=^TestHelperParseFloor$")
	fl.Env = append(os.Environ(), "MSC_PARSE_FLOOR="+strings.Join(files, string(os.PathListSeparator)))
	if floor, err = measure(fl); err != nil {
		b.Fatal(err)
	}
	// The same run against the fake GitHub, for its calls.
	forget()
	calls := githubCalls(b, bin, env, files, sharded)

	b.ReportMetric(once.wall.Seconds(), "wall-s")
	b.ReportMetric(once.cpu.Seconds(), "cpu-s")
	b.ReportMetric(floor.cpu.Seconds(), "floor-cpu-s")
	b.ReportMetric(float64(once.maxRSS)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(once.wall.Nanoseconds())/float64(n), "wall-ns/claim")
	b.ReportMetric(float64(once.maxRSS)/float64(n), "RSS-B/claim")
	b.ReportMetric(floor.wall.Seconds(), "floor-wall-s")
	b.ReportMetric(float64(floor.maxRSS)/(1<<20), "floor-RSS-MiB")
	b.ReportMetric(float64(size)/(1<<20), "registry-MiB")
	b.ReportMetric(float64(calls), "github-calls")
}

// githubCalls runs the same changed reconcile as a process against the
// fake GitHub, whose repository holds the same files, and returns the
// calls the run reported.
func githubCalls(b *testing.B, bin string, env []string, files []string, sharded bool) int {
	gh := githubfake.New(b, githubfake.WithToken(ghToken))
	repo := map[string]string{}
	regPath := "registry.yaml"
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		repo["registry/"+filepath.Base(f)] = string(data)
		if !sharded {
			regPath = "registry/" + filepath.Base(f)
		}
	}
	if sharded {
		regPath = "registry/{cluster}.yaml"
	}
	gh.CreateRepo("platform", "registry", repo)
	cmd := exec.Command(bin, "--once")
	cmd.Env = append(env, "GITHUB_TOKEN="+ghToken, "GITHUB_API_URL="+gh.URL(),
		"REGISTRY_REPO_OWNER=platform", "REGISTRY_REPO_NAME=registry", "REGISTRY_FILE_PATH="+regPath)
	r, err := measure(cmd)
	if err != nil {
		b.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(r.stdout, &res); err != nil || res.Outcome != "opened" {
		b.Fatalf("GitHub run: %+v %v\n%s", res, err, r.stdout)
	}
	return res.GitHubCalls
}

// TestHelperParseFloor is BenchmarkOnceProcess's floor when run as a
// child process: it parses each file named in MSC_PARSE_FLOOR with
// yaml.v3 into nodes, one at a time, and does nothing else.
func TestHelperParseFloor(t *testing.T) {
	list := os.Getenv("MSC_PARSE_FLOOR")
	if list == "" {
		t.Skip("only as BenchmarkOnceProcess's child process")
	}
	for _, f := range strings.Split(list, string(os.PathListSeparator)) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			t.Fatal(err)
		}
	}
}

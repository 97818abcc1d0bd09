package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// result is one benchmark line: name without the GOMAXPROCS suffix,
// iterations, and every reported metric by unit ("ns/op", "statuses/s").
type result struct {
	Name    string
	N       int
	Metrics map[string]float64
	Line    string
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse picks the result lines out of go test -bench output: a name, an
// iteration count, then value/unit pairs. Log lines and a benchmark's
// bare name (printed before its logs) do not have that shape.
func parse(out string) []result {
	var rs []result
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		r := result{Name: procsSuffix.ReplaceAllString(f[0], ""), N: n, Metrics: map[string]float64{}, Line: strings.TrimSpace(sc.Text())}
		ok := true
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				ok = false
				break
			}
			r.Metrics[f[i+1]] = v
		}
		if ok {
			rs = append(rs, r)
		}
	}
	return rs
}

// find returns the result named name, if any.
func find(rs []result, name string) (result, bool) {
	for _, r := range rs {
		if r.Name == name {
			return r, true
		}
	}
	return result{}, false
}

// metric returns the value of the first unit with prefix, and that unit.
func (r result) metric(prefix string) (float64, string, bool) {
	for u, v := range r.Metrics {
		if strings.HasPrefix(u, prefix) {
			return v, u, true
		}
	}
	return 0, "", false
}

// machine describes where the figures were measured.
type machine struct {
	Date, CPU, Go, Redis, Commit, Kernel string
	Cores                                int
	LoadStart, LoadEnd                   string
}

func machineInfo(ctx context.Context, goCmd string) machine {
	m := machine{
		Date:      time.Now().UTC().Format("2006-01-02 15:04 MST"),
		CPU:       cpuModel(),
		Cores:     runtime.NumCPU(),
		LoadStart: loadAverage(),
		Go:        command(ctx, goCmd, "version"),
		Redis:     redisVersion(ctx),
		Commit:    command(ctx, "git", "describe", "--always", "--dirty"),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// cpuModel is /proc/cpuinfo's first "model name".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAverage is the 1, 5 and 15 minute load from /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// redisVersion is the redis-server version the ingest baselines ran on,
// from "Redis server v=7.0.15 sha=... malloc=...".
func redisVersion(ctx context.Context) string {
	out := command(ctx, "redis-server", "--version")
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return "redis-server " + v
		}
	}
	return out
}

func command(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(string(out))
}

// report is everything one run measured.
type report struct {
	Machine machine
	Areas   []areaRun
}

type areaRun struct {
	area    area
	results []result
	raw     string
	err     error
	took    time.Duration
}

func (r report) render(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "# Benchmark report\n\n")
	fmt.Fprintf(w, "| Machine | |\n|---|---|\n")
	fmt.Fprintf(w, "| Date | %s |\n", m.Date)
	fmt.Fprintf(w, "| CPU | %s |\n", m.CPU)
	fmt.Fprintf(w, "| Cores | %d |\n", m.Cores)
	fmt.Fprintf(w, "| Load average (1/5/15 min) | %s at start, %s at end |\n", m.LoadStart, m.LoadEnd)
	fmt.Fprintf(w, "| Go | %s |\n", m.Go)
	if m.Kernel != "" {
		fmt.Fprintf(w, "| OS | %s |\n", m.Kernel)
	}
	fmt.Fprintf(w, "| Redis | %s |\n", m.Redis)
	fmt.Fprintf(w, "| Commit | %s |\n", m.Commit)
	fmt.Fprintf(w, "\nAbsolute rates move with the machine and its load; the ratios against\n"+
		"baselines measured in the same run (same redis-server, same moment) are\n"+
		"what compares across runs.\n")
	for _, a := range r.Areas {
		fmt.Fprintf(w, "\n## %s\n\n", a.area.title)
		bench := a.area.bench
		if bench == "" {
			bench = "."
		}
		cmd := strings.Join(append(append(append([]string{}, a.area.env...), append([]string{"go test -bench '" + bench + "' -benchmem"}, a.area.flags...)...), a.area.pkg), " ")
		fmt.Fprintf(w, "`%s` (%s)\n\n", cmd, a.took.Round(time.Second))
		if a.err != nil {
			fmt.Fprintf(w, "**Failed:** %v. Output tail:\n\n```\n%s\n```\n", a.err, tailLines(a.raw, 20))
			if len(a.results) == 0 {
				continue
			}
		}
		if len(a.results) == 0 {
			fmt.Fprintf(w, "No benchmark results.\n")
			continue
		}
		a.area.render(w, a.results)
	}
	fmt.Fprintf(w, "\n## Raw benchmark lines\n\nFor `benchstat`: the lines as `go test` printed them.\n\n```\n")
	for _, a := range r.Areas {
		for _, res := range a.results {
			fmt.Fprintln(w, res.Line)
		}
	}
	fmt.Fprintf(w, "```\n")
}

func renderIngest(w io.Writer, rs []result) {
	fmt.Fprintf(w, "Real HTTP on loopback into a private redis-server, driven by a lean\n"+
		"keep-alive HTTP/1.1 client; the baseline is `redis-benchmark -t hset -c 32`\n"+
		"against that same server in the same run. The two floor rows bound what\n"+
		"the endpoints above them can reach on this machine: the HTTP layer alone\n"+
		"(no decoding, no Redis), and the store alone (no HTTP, no JSON).\n\n")
	fmt.Fprintf(w, "| Endpoint | Load | Statuses/s | Baseline HSET/s | Ratio | B/op | allocs/op |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|\n")
	rows := []struct{ name, endpoint, load, baseline string }{
		{"BenchmarkSinglePost", "`POST /api/v1/status`", "1 status per request, 32 clients", "unpipelined"},
		{"BenchmarkHTTPFloor", "floor: bare net/http, body read, 201", "as above", "unpipelined"},
		{"BenchmarkBatchPost", "`POST /api/v1/statuses`", "500 statuses per request, 8 clients", "`-P 32`"},
		{"BenchmarkStoreFloor", "floor: `Store.Apply` of the same records", "as above", "`-P 32`"},
	}
	for _, row := range rows {
		r, ok := find(rs, row.name)
		if !ok {
			fmt.Fprintf(w, "| %s | %s | not measured | | | | |\n", row.endpoint, row.load)
			continue
		}
		base, _, _ := r.metric("hset")
		fmt.Fprintf(w, "| %s | %s | %s | %s (%s) | %s | %s | %s |\n", row.endpoint, row.load,
			num(r.Metrics["statuses/s"]), num(base), row.baseline, num(r.Metrics["ratio"]),
			num(r.Metrics["B/op"]), num(r.Metrics["allocs/op"]))
	}
}

func renderRegistry(w io.Writer, rs []result) {
	fmt.Fprintf(w, "One level-triggered apply of every record to a seed-layout file, a tenth\n"+
		"of them changed. Parse only is yaml.v3 reading the same file, the floor\n"+
		"under apply. Peak heap is above the file and records, read in sections;\n"+
		"the whole-file column is the same apply reading the file at once.\n\n")
	fmt.Fprintf(w, "| Claims | Apply ms/op | ns/claim | MB/s | B/op | allocs/op | Peak heap MiB | Whole-file peak heap MiB (before sections) | Parse only ms/op | Apply ÷ parse |\n")
	fmt.Fprintf(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var perClaim []float64
	sizes := []int{1000, 10000, 100000}
	for _, n := range sizes {
		a, ok := find(rs, fmt.Sprintf("BenchmarkApply/claims=%d", n))
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | | | | | | | |\n", num(float64(n)))
			continue
		}
		perClaim = append(perClaim, a.Metrics["ns/claim"])
		wholePeak := "–"
		if wh, ok := find(rs, fmt.Sprintf("BenchmarkApplyWhole/claims=%d", n)); ok {
			wholePeak = num(wh.Metrics["peak-MiB"])
		}
		parseMs, ratio := "–", "–"
		if p, ok := find(rs, fmt.Sprintf("BenchmarkParseOnly/claims=%d", n)); ok && p.Metrics["ns/op"] > 0 {
			parseMs = num(p.Metrics["ns/op"] / 1e6)
			ratio = num(a.Metrics["ns/op"] / p.Metrics["ns/op"])
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", num(float64(n)), num(a.Metrics["ns/op"]/1e6),
			num(a.Metrics["ns/claim"]), num(a.Metrics["MB/s"]), num(a.Metrics["B/op"]), num(a.Metrics["allocs/op"]),
			num(a.Metrics["peak-MiB"]), wholePeak, parseMs, ratio)
	}
	if len(perClaim) == len(sizes) && perClaim[0] > 0 {
		fmt.Fprintf(w, "\nScaling: ns/claim at 100,000 claims is %s× that at 1,000 (1.0 is linear).\n", num(perClaim[2]/perClaim[0]))
	}
}

func renderReconcile(w io.Writer, rs []result) {
	fmt.Fprintf(w, "One changed run (a tenth of the claims with a new status) against the\n"+
		"fake GitHub and a real Redis; a clean run follows with nothing new.\n\n")
	fmt.Fprintf(w, "| Claims | GitHub calls per changed run (mean / max) | GitHub calls per clean run | ms per changed run | B/op | allocs/op |\n")
	fmt.Fprintf(w, "|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range []int{10, 10000} {
		r, ok := find(rs, fmt.Sprintf("BenchmarkReconcile/claims=%d", n))
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | | | |\n", num(float64(n)))
			continue
		}
		fmt.Fprintf(w, "| %s | %s / %s | %s | %s | %s | %s |\n", num(float64(n)),
			num(r.Metrics["calls/changed-run"]), num(r.Metrics["max-calls/changed-run"]), num(r.Metrics["calls/clean-run"]),
			num(r.Metrics["ms/changed-run"]), num(r.Metrics["B/op"]), num(r.Metrics["allocs/op"]))
	}
}

// renderProcess is the whole-process table: reconcile --once with the
// local publisher against a real redis-server, beside a process that only
// parses the same files with yaml.v3, and the same run's GitHub calls
// against the fake; then the heap bound of a 100k apply.
func renderProcess(w io.Writer, rs []result) {
	fmt.Fprintf(w, "`reconcile --once` as a CronJob runs it: a real redis-server holding every\n"+
		"claim (seed layout, 100 clusters, a tenth changed), the local publisher,\n"+
		"no memory of a previous publish. Wall time, CPU time (user + system) and\n"+
		"peak RSS (GNU time) of the process; the floor is a process parsing the\n"+
		"same files with yaml.v3. On a shared machine compare CPU time and the\n"+
		"floor of the same run rather than wall time.\n"+
		"1,000,000 claims are sharded, one file per cluster.\n\n")
	fmt.Fprintf(w, "| Claims | Registry MiB | Wall s | CPU s | Peak RSS MiB | Wall µs/claim | RSS B/claim | Floor wall s | Floor CPU s | Floor RSS MiB | GitHub calls (fake) |\n")
	fmt.Fprintf(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range []int{1000, 10000, 100000, 1000000} {
		r, ok := find(rs, fmt.Sprintf("BenchmarkOnceProcess/claims=%d", n))
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | | | | | | | | |\n", num(float64(n)))
			continue
		}
		m := r.Metrics
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", num(float64(n)), num(m["registry-MiB"]), num(m["wall-s"]),
			optional(m, "cpu-s"), num(m["peak-RSS-MiB"]), num(m["wall-ns/claim"]/1000), num(m["RSS-B/claim"]), num(m["floor-wall-s"]),
			optional(m, "floor-cpu-s"), num(m["floor-RSS-MiB"]), num(m["github-calls"]))
	}
	if r, ok := find(rs, "BenchmarkApplyHeap"); ok {
		fmt.Fprintf(w, "\nPeak heap of one 100k-claim apply above its input: %s MiB (the benchmark fails above %s MiB).\n",
			num(r.Metrics["peak-heap-MiB"]), num(r.Metrics["bound-MiB"]))
	}
}

// optional is the metric key of m, or "–" when the benchmark did not
// report it (an older run's output).
func optional(m map[string]float64, key string) string {
	if v, ok := m[key]; ok {
		return num(v)
	}
	return "–"
}

// agentFigures are the agent benchmarks' own metrics, in reading order,
// with the target the benchmark states.
var agentFigures = []struct {
	bench, title string
	metrics      [][3]string // unit, label, target
}{
	{"BenchmarkInitialSync10k", "First sync of 10,000 claims", [][3]string{
		{"requests/sync", "requests", "ceil(10000/500) = 20, batched"},
		{"requests/claim", "requests per claim", ""},
		{"bytes/claim", "request bytes per claim", ""},
		{"heap-B/claim", "agent heap per watched claim (bytes)", ""},
		{"s/sync", "seconds until the collector holds every claim", ""},
	}},
	{"BenchmarkNoStatusChange10k", "Informer resync (every second) + 1,000 label-only updates", [][3]string{
		{"requests", "requests", "0"},
		{"unchanged-events", "events seen and dropped", ""},
	}},
	{"BenchmarkFullResync10k", "Periodic full resync of 10,000 claims", [][3]string{
		{"requests/resync", "requests", "ceil(10000/500) = 20"},
		{"bytes/claim", "request bytes per claim", ""},
		{"s/resync", "seconds", ""},
	}},
}

func renderAgent(w io.Writer, rs []result) {
	fmt.Fprintf(w, "The agent against a real kube-apiserver + etcd holding 10,000 claims\n"+
		"with statuses, sending to the real ingest handler and Redis.\n\n")
	fmt.Fprintf(w, "| Benchmark | Figure | Value | Target |\n|---|---|---:|---|\n")
	for _, f := range agentFigures {
		r, ok := find(rs, f.bench)
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | |\n", f.title)
			continue
		}
		for _, m := range f.metrics {
			v, ok := r.Metrics[m[0]]
			val := "–"
			if ok {
				val = num(v)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", f.title, m[1], val, m[2])
		}
	}
}

// num formats a figure for reading: whole numbers and anything from 100
// up rounded with thousands separated, three significant digits below,
// "–" for NaN.
func num(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case math.Abs(v) >= 100 || v == math.Trunc(v):
		return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// group puts commas between thousands of an integer string.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Command benchreport runs the project's benchmarks and renders one
// markdown report: the machine it ran on, then one table per area (ingest
// against redis-benchmark measured in the same run, registry apply
// scaling, reconcile GitHub calls and time, agent requests and heap per
// claim), then every raw benchmark line for benchstat. `make bench` runs
// it; the report goes to stdout and to -out, the benchmarks' own output to
// stderr as they run.
//
//	go run ./hack/benchreport [-out .cache/bench/report.md] [-only ingest,registry]
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// area is one package's benchmarks and how to show them.
type area struct {
	key, title string
	pkg        string
	bench      string   // -bench pattern; "" is "."
	env        []string // extra environment of go test
	flags      []string // go test flags beyond -run/-bench/-benchmem
	render     func(w io.Writer, rs []result)
}

// areas are run in this order. The flags are those the package's
// benchmarks were written for: the ingest needs seconds per benchmark to
// reach a steady rate, the reconcile and agent runs are expensive.
var areas = []area{
	{key: "ingest", title: "Ingest against Redis", pkg: "./functions/ingest/", flags: []string{"-benchtime", "3s"}, render: renderIngest},
	{key: "registry", title: "Registry apply scaling", pkg: "./shared/registry/", render: renderRegistry},
	{key: "reconcile", title: "Reconcile: GitHub calls and time", pkg: "./functions/reconcile/", bench: "^BenchmarkReconcile$", flags: []string{"-benchtime", "10x"}, render: renderReconcile},
	{key: "process", title: "Reconcile --once as a process: wall time and peak RSS", pkg: "./functions/reconcile/", bench: "^(BenchmarkOnceProcess|BenchmarkApplyHeap)$",
		env: []string{"MSC_BENCH_1M=1"}, flags: []string{"-benchtime", "1x", "-timeout", "60m"}, render: renderProcess},
	{key: "agent", title: "Agent: requests and heap per claim", pkg: "./agent/", flags: []string{"-benchtime", "1x", "-timeout", "30m"}, render: renderAgent},
}

func main() {
	out := flag.String("out", ".cache/bench/report.md", "also write the report to this file")
	only := flag.String("only", "", "comma-separated areas to run (ingest, registry, reconcile, process, agent); default all")
	goCmd := flag.String("go", "go", "the go command")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *goCmd, *out, *only, os.Stdout, os.Stderr); err != nil {
		log.Error("benchreport failed", "err", err)
		os.Exit(1)
	}
}

// run measures the selected areas and writes the report to stdout and
// path. A failing area is reported in place and makes run fail after the
// report is written, so one broken benchmark does not hide the others.
func run(ctx context.Context, goCmd, path, only string, stdout, progress io.Writer) error {
	selected, err := selectAreas(only)
	if err != nil {
		return err
	}
	r := report{Machine: machineInfo(ctx, goCmd)}
	for _, a := range selected {
		fmt.Fprintf(progress, "== %s: go test -bench %s\n", a.key, a.pkg)
		start := time.Now()
		raw, err := goTest(ctx, goCmd, a, progress)
		r.Areas = append(r.Areas, areaRun{area: a, results: parse(raw), raw: raw, err: err, took: time.Since(start)})
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	r.Machine.LoadEnd = loadAverage()
	var buf bytes.Buffer
	r.render(&buf)
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("report directory: %w", err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		fmt.Fprintf(progress, "report written to %s\n", path)
	}
	var failed []string
	for _, a := range r.Areas {
		if a.err != nil {
			failed = append(failed, a.area.key)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("benchmarks failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func selectAreas(only string) ([]area, error) {
	if only == "" {
		return areas, nil
	}
	var out []area
	for _, k := range strings.Split(only, ",") {
		k = strings.TrimSpace(k)
		found := false
		for _, a := range areas {
			if a.key == k {
				out, found = append(out, a), true
			}
		}
		if !found {
			return nil, fmt.Errorf("-only: unknown area %q (ingest, registry, reconcile, process, agent)", k)
		}
	}
	return out, nil
}

// goTest runs one package's benchmarks, copying their output to progress
// as it comes, and returns the output.
func goTest(ctx context.Context, goCmd string, a area, progress io.Writer) (string, error) {
	args := append([]string{"test", "-run", "^$", "-bench", cmp.Or(a.bench, "."), "-benchmem", "-count", "1"}, a.flags...)
	cmd := exec.CommandContext(ctx, goCmd, append(args, a.pkg)...)
	if len(a.env) > 0 {
		cmd.Env = append(os.Environ(), a.env...)
	}
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, progress)
	cmd.Stderr = cmd.Stdout
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("go test %s: exit %d", a.pkg, ee.ExitCode())
		} else {
			err = fmt.Errorf("go test %s: %w", a.pkg, err)
		}
	}
	return buf.String(), err
}

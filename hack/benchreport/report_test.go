package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Output as go test prints it, logs and a bare name line included.
const ingestOut = `goos: linux
goarch: amd64
pkg: github.com/stuttgart-things/machinery-status-collector/functions/ingest
cpu: AMD EPYC
BenchmarkSinglePost-2   	   61234	     52000 ns/op	     19230 statuses/s	     71234 hset-unpipelined/s	         0.2700 ratio	    6123 B/op	      71 allocs/op
BenchmarkHTTPFloor-2    	  343705	      8915 ns/op	    152091 hset-unpipelined/s	         0.7375 ratio	    112163 statuses/s
BenchmarkBatchPost
    bench_test.go:99: some log line
BenchmarkBatchPost-2    	     480	   7400000 ns/op	     67567 statuses/s	    812345 hset-P32/s	         0.08318 ratio	  901234 B/op	    3012 allocs/op
PASS
ok  	github.com/stuttgart-things/machinery-status-collector/functions/ingest	40.1s
`

const registryOut = `BenchmarkApply/claims=1000-2         	     500	   2400000 ns/op	  60.00 MB/s	  800000 B/op	    9000 allocs/op	      2400 ns/claim
BenchmarkApply/claims=10000-2        	      50	  25000000 ns/op	  58.00 MB/s	 8000000 B/op	   90000 allocs/op	      2500 ns/claim
BenchmarkApply/claims=100000-2       	       4	 270000000 ns/op	  55.00 MB/s	80000000 B/op	  900000 allocs/op	      2700 ns/claim	        81.20 peak-MiB
BenchmarkApplyWhole/claims=100000-2  	       2	 600000000 ns/op	  24.00 MB/s	360000000 B/op	 2000000 allocs/op	      6000 ns/claim	       304.0 peak-MiB
BenchmarkParseOnly/claims=1000-2     	    1000	   1200000 ns/op	  500000 B/op	    7000 allocs/op	      1200 ns/claim
BenchmarkParseOnly/claims=10000-2    	     100	  12000000 ns/op	 5000000 B/op	   70000 allocs/op	      1200 ns/claim
BenchmarkParseOnly/claims=100000-2   	      10	 120000000 ns/op	50000000 B/op	  700000 allocs/op	      1200 ns/claim
`

const reconcileOut = `BenchmarkReconcile/claims=10-2      	      10	   5000000 ns/op	         6.000 calls/changed-run	         1.000 calls/clean-run	         6.000 max-calls/changed-run	         5.000 ms/changed-run	  100000 B/op	    1000 allocs/op
BenchmarkReconcile/claims=10000-2   	      10	  90000000 ns/op	         6.000 calls/changed-run	         1.000 calls/clean-run	         7.000 max-calls/changed-run	        90.00 ms/changed-run	90000000 B/op	  500000 allocs/op
`

const processOut = `BenchmarkOnceProcess/claims=100000-2       	       1	8663079556 ns/op	      6121 RSS-B/claim	       262.3 floor-RSS-MiB	         3.531 floor-wall-s	         7.000 github-calls	       583.7 peak-RSS-MiB	        14.58 registry-MiB	     86614 wall-ns/claim	         8.661 wall-s
BenchmarkOnceProcess/claims=10000-2        	       1	 455876847 ns/op	      4538 RSS-B/claim	        43.48 floor-RSS-MiB	         0.3134 floor-wall-s	         7.000 github-calls	        43.28 peak-RSS-MiB	         1.459 registry-MiB	     44852 wall-ns/claim	         0.4485 wall-s	0.52 cpu-s	0.31 floor-cpu-s
BenchmarkApplyHeap-2   	       1	7860402882 ns/op	       384.0 bound-MiB	       303.6 peak-heap-MiB
`

func TestParse(t *testing.T) {
	rs := parse(ingestOut)
	if len(rs) != 3 {
		t.Fatalf("parsed %d results, want 3: %+v", len(rs), rs)
	}
	r := rs[2]
	if r.Name != "BenchmarkBatchPost" || r.N != 480 || r.Metrics["statuses/s"] != 67567 || r.Metrics["hset-P32/s"] != 812345 || r.Metrics["allocs/op"] != 3012 {
		t.Fatalf("batch result: %+v", r)
	}
	if rs := parse(registryOut); len(rs) != 7 || rs[2].Name != "BenchmarkApply/claims=100000" || rs[2].Metrics["ns/claim"] != 2700 {
		t.Fatalf("registry results: %+v", rs)
	}
}

func TestRender(t *testing.T) {
	r := report{
		Machine: machine{Date: "2026-11-25 10:00 UTC", CPU: "AMD EPYC", Cores: 2, LoadStart: "1.00 2.00 3.00", LoadEnd: "4.00 5.00 6.00", Go: "go version go1.26.8 linux/amd64", Redis: "Redis server v=7.0.15", Commit: "abc1234"},
		Areas: []areaRun{
			{area: areas[0], results: parse(ingestOut), raw: ingestOut, took: 40 * time.Second},
			{area: areas[1], results: parse(registryOut), raw: registryOut},
			{area: areas[2], results: parse(reconcileOut), raw: reconcileOut},
			{area: areas[3], results: parse(processOut), raw: processOut},
			{area: areas[4], raw: "--- FAIL: BenchmarkInitialSync10k\nkubetest: missing kube-apiserver\nFAIL\n", err: errors.New("go test ./agent/: exit 1")},
		},
	}
	var b strings.Builder
	r.render(&b)
	out := b.String()
	for _, want := range []string{
		"| CPU | AMD EPYC |",
		"| Cores | 2 |",
		"| Load average (1/5/15 min) | 1.00 2.00 3.00 at start, 4.00 5.00 6.00 at end |",
		"| `POST /api/v1/status` | 1 status per request, 32 clients | 19,230 | 71,234 (unpipelined) | 0.27 | 6,123 | 71 |",
		"| floor: bare net/http, body read, 201 | as above | 112,163 | 152,091 (unpipelined) | 0.738 |",
		"| `POST /api/v1/statuses` | 500 statuses per request, 8 clients | 67,567 | 812,345 (`-P 32`) | 0.0832 |",
		"| floor: `Store.Apply` of the same records | as above | not measured |",
		"| 100,000 | 270 | 2,700 | 55 | 80,000,000 | 900,000 | 81.2 | 304 | 120 | 2.25 |",
		"| 10,000 | 25 | 2,500 | 58 | 8,000,000 | 90,000 | 0 | – | 12 | 2.08 |",
		"Scaling: ns/claim at 100,000 claims is 1.12× that at 1,000",
		"| 10,000 | 6 / 7 | 1 | 90 |",
		"**Failed:** go test ./agent/: exit 1",
		"kubetest: missing kube-apiserver",
		"BenchmarkReconcile/claims=10-2      \t      10",
		"| 100,000 | 14.6 | 8.66 | – | 584 | 86.6 | 6,121 | 3.53 | – | 262 | 7 |",
		"| 10,000 | 1.46 | 0.449 | 0.52 | 43.3 | 44.9 | 4,538 | 0.313 | 0.31 | 43.5 | 7 |",
		"| 1,000,000 | not measured |",
		"Peak heap of one 100k-claim apply above its input: 304 MiB (the benchmark fails above 384 MiB).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestSelectAreas(t *testing.T) {
	got, err := selectAreas("registry, agent")
	if err != nil || len(got) != 2 || got[0].key != "registry" || got[1].key != "agent" {
		t.Fatalf("selectAreas = %v, %v", got, err)
	}
	if _, err := selectAreas("gpu"); err == nil {
		t.Fatal("unknown area accepted")
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.08318: "0.0832", 2.5: "2.50", 12.34: "12.3", 71: "71", 1234567: "1,234,567", -1500: "-1,500", 999.6: "1,000"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}

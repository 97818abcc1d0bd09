package registry

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// benchRegistry is a seed-layout file of n claims over 100 clusters and
// the records for all of them (level-triggered), every tenth with a new
// message.
func benchRegistry(n int) ([]byte, []status.Record) {
	const clusters = 100
	var b strings.Builder
	recs := make([]status.Record, 0, n)
	for c := range clusters {
		cluster := fmt.Sprintf("cluster-%03d", c)
		fmt.Fprintf(&b, "%s:\n", cluster)
		for i := c; i < n; i += clusters {
			ns, name := fmt.Sprintf("team-%d", i%17), fmt.Sprintf("claim-%06d", i)
			fmt.Fprintf(&b, "  - name: %s\n    namespace: %s\n    claimRef: %s/%s\n    statusMessage: Available\n    lastCheckedAt: \"2026-01-01T00:00:00Z\"\n", name, ns, ns, name)
			msg := "Available"
			if i%10 == 0 {
				msg = "cannot apply: connection refused"
			}
			recs = append(recs, status.Record{Cluster: cluster, ClaimRef: ns + "/" + name, StatusMessage: msg, Ready: "True", ObservedAt: observed})
		}
	}
	return []byte(b.String()), recs
}

// BenchmarkApply: one level-triggered apply of all records, 10% changed.
// Target: 10k claims under 100 ms, time linear in the claim count; peak
// heap (peak-MiB, above the file and records) at most 1 KiB a claim.
func BenchmarkApply(b *testing.B) { benchApply(b, sectionSize) }

// BenchmarkApplyWhole is BenchmarkApply reading the file whole, as Apply
// did before it read in sections: the same-run "before".
func BenchmarkApplyWhole(b *testing.B) { benchApply(b, 0) }

func benchApply(b *testing.B, section int) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("claims=%d", n), func(b *testing.B) {
			src, recs := benchRegistry(n)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				_, rep, err := apply(src, recs, Options{}, section)
				if err != nil {
					b.Fatal(err)
				}
				if len(rep.Changed) != n/10 {
					b.Fatalf("%d changes, want %d", len(rep.Changed), n/10)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/claim")
			b.StopTimer()
			peak := peakHeap(func() {
				if _, _, err := apply(src, recs, Options{}, section); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}

// BenchmarkParseOnly is the floor under BenchmarkApply: yaml.v3 parsing
// the same files into nodes, which Apply must do once.
func BenchmarkParseOnly(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("claims=%d", n), func(b *testing.B) {
			src, _ := benchRegistry(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseDocs(src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/claim")
			b.StopTimer()
			peak := peakHeap(func() {
				if _, err := parseDocs(src); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}

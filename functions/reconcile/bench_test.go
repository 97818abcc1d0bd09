package reconcile

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkReconcile measures one changed run (a tenth of the claims get a
// new status) against the fake GitHub and a real Redis, and reports the
// GitHub calls of a changed run and of a clean run at 10 and 10,000 claims.
func BenchmarkReconcile(b *testing.B) {
	for _, claims := range []int{10, 10000} {
		b.Run(fmt.Sprintf("claims=%d", claims), func(b *testing.B) {
			e := newEnv(b, claims)
			all := make([]int, claims)
			for i := range all {
				all[i] = i
			}
			e.put("Available", all...)
			if res := e.run(); res.Outcome != "opened" {
				b.Fatalf("first run: %+v", res)
			}
			changed := claims / 10
			if changed == 0 {
				changed = 1
			}
			var calls, maxCalls int
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e.put(fmt.Sprintf("Round %d", i), all[:changed]...)
				b.StartTimer()
				res, err := e.fn.Run(context.Background())
				if err != nil || res.Outcome != "updated" {
					b.Fatalf("run %d: %+v %v", i, res, err)
				}
				calls += res.GitHubCalls
				maxCalls = max(maxCalls, res.GitHubCalls)
			}
			b.StopTimer()
			clean, err := e.fn.Run(context.Background())
			if err != nil || clean.Reason != "clean" {
				b.Fatalf("clean run: %+v %v", clean, err)
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/changed-run")
			b.ReportMetric(float64(maxCalls), "max-calls/changed-run")
			b.ReportMetric(float64(clean.GitHubCalls), "calls/clean-run")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/changed-run")
		})
	}
}

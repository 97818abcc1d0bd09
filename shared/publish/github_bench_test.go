package publish

import (
	"testing"
	"time"
)

// BenchmarkChangedRun10k is one changed run (ReadBase + Publish of a new
// 10,000-claim file with 1,000 claims changed) against the in-process
// fake: the GitHub share of the one-second reconcile budget.
func BenchmarkChangedRun10k(b *testing.B) {
	e := newEnv(b, 10000)
	contents := []string{registry(10000, 1), registry(10000, 2)}
	calls := 0
	b.ResetTimer()
	for i := range b.N {
		o := e.run(e.ctx(time.Minute), contents[i%2], desired(i%2+1))
		if o.err != nil {
			b.Fatal(o.err)
		}
		calls = max(calls, o.calls)
	}
	b.ReportMetric(float64(calls), "max-calls/run")
}

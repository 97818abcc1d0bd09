package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCounters(t *testing.T) {
	m := New()
	m.Gauges(func() int { return 7 }, func() int { return 2000 })
	m.Send(ResultRetry, 100)
	m.Send(ResultOK, 50)
	m.Items(3, 2, 1)
	m.Resync()
	m.Informers(2)
	m.Event(EventUnchanged)
	m.Event(EventUnchanged)
	if got := m.EventCount(EventUnchanged); got != 2 {
		t.Fatalf("unchanged events %d", got)
	}
	if got := testutil.ToFloat64(m.sends.WithLabelValues(ResultOK)); got != 1 {
		t.Fatalf("ok sends %v", got)
	}
	if got := testutil.ToFloat64(m.bytes); got != 150 {
		t.Fatalf("bytes %v", got)
	}
	if got := testutil.ToFloat64(m.lastOK); got != 1 {
		t.Fatalf("last ok %v", got)
	}
	n, err := testutil.GatherAndCount(m.Registry, "machinery_agent_queue_depth", "machinery_agent_claims_watched")
	if err != nil || n != 2 {
		t.Fatalf("gauges: %d, %v", n, err)
	}
	err = testutil.GatherAndCompare(m.Registry, strings.NewReader(`
# HELP machinery_agent_claims_watched Claims in the informer caches.
# TYPE machinery_agent_claims_watched gauge
machinery_agent_claims_watched 2000
`), "machinery_agent_claims_watched")
	if err != nil {
		t.Fatal(err)
	}
}

func TestNilMetricsIsNoop(t *testing.T) {
	var m *Metrics
	m.Send(ResultOK, 1)
	m.Items(1, 1, 1)
	m.Resync()
	m.Informers(1)
	m.Event(EventAdd)
	m.Gauges(nil, nil)
	if m.EventCount(EventAdd) != 0 {
		t.Fatal("nil metrics counted")
	}
}

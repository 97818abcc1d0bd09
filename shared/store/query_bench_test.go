package store

import (
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// benchFleet stores n claims over three clusters, one in ten not ready
// with a random lastTransitionTime, like the status page's browser test.
func benchFleet(b *testing.B, n int) *Store {
	b.Helper()
	ctx := context.Background()
	s, _ := newStore(b)
	rng := rand.New(rand.NewSource(3))
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	clusters := []string{"alpha", "bravo", "charlie"}
	for start := 0; start < n; start += 2000 {
		c := clusters[(start/2000)%len(clusters)]
		recs := make([]status.Record, 0, 2000)
		for i := start; i < start+2000 && i < n; i++ {
			r := status.Record{Cluster: c, ClaimRef: fmt.Sprintf("team-%d/claim-%d", i%40, i), Kind: "PostgreSQL.db.example.org",
				StatusMessage: "Resource is available and ready to serve traffic", Ready: "True", ObservedAt: base.Format(time.RFC3339)}
			if i%10 == 0 {
				r.Ready, r.Reason = "False", "ReconcileError"
				r.StatusMessage = fmt.Sprintf("cannot apply composed resource %d: connection refused by the provider", i)
				r.LastTransitionTime = base.Add(-time.Duration(rng.Intn(86400)) * time.Second).Format(time.RFC3339)
			}
			recs = append(recs, r)
		}
		if i, err := status.NormalizeAll(recs, base.Add(time.Hour)); err != nil {
			b.Fatalf("record %d: %v", i, err)
		}
		if _, err := s.Apply(ctx, base.Format(time.RFC3339), recs); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkQuery100k is the status page's first request over 100,000
// claims: the first 50 not-ready claims of every cluster; and a text search.
func BenchmarkQuery100k(b *testing.B) {
	s := benchFleet(b, 100_000)
	for _, bc := range []struct {
		name string
		q    Query
	}{
		{"notReady", Query{State: 'N', Limit: 50}},
		{"text", Query{State: 'N', Limit: 50, Text: "refused"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s.rdb.ConfigResetStat(context.Background())
			out0 := redisStat(b, s, "stats", "total_net_output_bytes")
			for b.Loop() {
				p, err := s.Query(context.Background(), bc.q)
				if err != nil || p.Total != 10_000 || len(p.Items) != 50 {
					b.Fatalf("total %d, %d items, %v", p.Total, len(p.Items), err)
				}
			}
			b.ReportMetric(redisMillis(b, s)/float64(b.N), "redis-ms/op")
			b.ReportMetric(float64(redisStat(b, s, "stats", "total_net_output_bytes")-out0)/1024/float64(b.N), "redis-KB/op")
		})
	}
}

// redisMillis is the time Redis spent in commands since its stats were
// reset (INFO commandstats), in milliseconds.
func redisMillis(b *testing.B, s *Store) float64 {
	info, err := s.rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, line := range strings.Split(info, "\n") {
		if i := strings.Index(line, ",usec="); i >= 0 && strings.HasPrefix(line, "cmdstat_evalsha") {
			rest := line[i+len(",usec="):]
			usec, _ := strconv.ParseFloat(rest[:strings.IndexByte(rest, ',')], 64)
			total += usec
		}
	}
	return total / 1000
}

// redisStat is one number of Redis's INFO section.
func redisStat(b *testing.B, s *Store, section, name string) int64 {
	info, err := s.rdb.Info(context.Background(), section).Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatalf("INFO %s has no %s", section, name)
	return 0
}

package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/agent"
	agentconfig "github.com/stuttgart-things/machinery-status-collector/agent/config"
	"github.com/stuttgart-things/machinery-status-collector/functions/collector"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
)

// The sample CRD and claims of `make run-agent` apply to a real
// kube-apiserver with their status, the agent (discovery mode, defaults
// as make run-agent sets them) reports every claim to a real collector,
// and `make flip-claim` flips one claim's Ready, which the agent reports
// within seconds.
func TestSampleClaimsReachTheCollector(t *testing.T) {
	kube := kubetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	k, err := newKube(kube.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	done, err := k.apply(ctx, "../../examples/claims")
	want := []string{"crd postgresqls.database.example.org", "namespace team-a",
		"postgresql default/my-db", "postgresql team-a/orders", "postgresql team-a/cache"}
	if err != nil || !slices.Equal(done, want) {
		t.Fatalf("apply = %q, %v; want %q", done, err, want)
	}
	// Applying again changes nothing and fails nothing.
	if again, err := k.apply(ctx, "../../examples/claims"); err != nil || len(again) != len(want) || again[2] != "postgresql default/my-db exists" {
		t.Fatalf("second apply = %q, %v", again, err)
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ccfg := collector.ConfigFromEnv(config.FromMap(nil))
	coll, err := collector.New(ccfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cctx, cstop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- coll.Serve(cctx, l) }()
	defer func() { cstop(); <-served }()
	url := "http://" + l.Addr().String()

	acfg, err := agentconfig.FromEnv(func(k string) string {
		return map[string]string{"CLUSTER_NAME": "local", "COLLECTOR_URL": url,
			"AGENT_FLUSH_INTERVAL": "50ms", "AGENT_DISCOVERY_INTERVAL": "200ms"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(acfg, kube.RESTConfig(), agent.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	actx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); a.Run(actx) }()
	defer func() { stop(); <-ran }()

	waitFor(t, ctx, url, map[string]string{
		"default/my-db": "True: Resource is available",
		"team-a/orders": "False: Waiting for the database to become available",
		"team-a/cache":  "Unknown: Ready=Unknown",
	})
	msg, err := k.flip(ctx, "default/my-db", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || msg != "postgresqls.database.example.org default/my-db: Ready True -> False" {
		t.Fatalf("flip = %q, %v", msg, err)
	}
	if msg, err := k.flip(ctx, "team-a/cache", time.Now()); err != nil || !strings.HasSuffix(msg, "Ready none -> True") {
		t.Fatalf("flip cache = %q, %v", msg, err)
	}
	waitFor(t, ctx, url, map[string]string{
		"default/my-db": "False: Flipped by make flip-claim",
		"team-a/orders": "False: Waiting for the database to become available",
		"team-a/cache":  "True: Resource is available",
	})
	if _, err := k.flip(ctx, "default/nope", time.Now()); err == nil || !strings.Contains(err.Error(), `not found in any resource of the "claim" category`) {
		t.Fatalf("flip of a missing claim: %v", err)
	}
}

// waitFor polls the collector's records of cluster "local" until they are
// want (claimRef -> "ready: statusMessage"), failing at ctx's deadline.
func waitFor(t *testing.T, ctx context.Context, base string, want map[string]string) {
	t.Helper()
	var got map[string]string
	for {
		got = map[string]string{}
		resp, err := http.Get(base + "/api/v1/status/local")
		if err == nil {
			var recs []struct{ ClaimRef, Ready, StatusMessage string }
			if json.NewDecoder(resp.Body).Decode(&recs) == nil {
				for _, r := range recs {
					got[r.ClaimRef] = r.Ready + ": " + r.StatusMessage
				}
			}
			resp.Body.Close()
		}
		if len(got) == len(want) && func() bool {
			for k, v := range want {
				if got[k] != v {
					return false
				}
			}
			return true
		}() {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("collector has %q, want %q", got, want)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

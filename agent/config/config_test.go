package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"CLUSTER_NAME": "cluster-01", "COLLECTOR_URL": "http://collector:8095",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.DiscoveryMode() || c.ClaimVersion != "v1alpha1" || c.BatchSize != 500 || c.FlushInterval != time.Second ||
		c.ResyncPeriod != 10*time.Minute || c.DiscoveryInterval != 30*time.Second || c.MetricsAddr != ":8080" ||
		c.MaxBackoff != time.Minute || c.Token != nil || c.CertPool != nil {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestSingleResourceAndTunables(t *testing.T) {
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromEnv(env(map[string]string{
		"CLUSTER_NAME": "c1", "COLLECTOR_URL": "https://collector.example.org",
		"CLAIM_GROUP": "database.example.org", "CLAIM_RESOURCE": "postgresqls", "CLAIM_VERSION": "v1",
		"CLAIM_NAMESPACE": "team-a", "COLLECTOR_TOKEN_FILE": tok,
		"AGENT_BATCH_SIZE": "1000", "AGENT_FLUSH_INTERVAL": "250ms", "AGENT_RESYNC_PERIOD": "0",
		"AGENT_METRICS_ADDR": "127.0.0.1:9000", "AGENT_LOG_LEVEL": "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DiscoveryMode() || c.ClaimVersion != "v1" || c.BatchSize != 1000 || c.FlushInterval != 250*time.Millisecond || c.ResyncPeriod != 0 {
		t.Fatalf("parsed: %+v", c)
	}
	if got, err := c.Token(); err != nil || got != "abc" {
		t.Fatalf("token %q, %v", got, err)
	}
	// The file is re-read, so a rotated Secret applies without a restart.
	if err := os.WriteFile(tok, []byte("rotated"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Token(); got != "rotated" {
		t.Fatalf("token after rotation %q", got)
	}
}

func TestReportsAllProblemsAtOnce(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"CLUSTER_NAME":         "Not_A_Label",
		"COLLECTOR_URL":        "ftp://x",
		"CLAIM_RESOURCE":       "postgresqls",
		"COLLECTOR_TOKEN":      "do-not-print-me",
		"COLLECTOR_TOKEN_FILE": "/nonexistent",
		"COLLECTOR_CA_FILE":    "/nonexistent/ca.pem",
		"AGENT_BATCH_SIZE":     "5000",
		"AGENT_FLUSH_INTERVAL": "soon",
		"AGENT_RESYNC_PERIOD":  "10ms",
		"AGENT_LOG_LEVEL":      "loud",
	}))
	if err == nil {
		t.Fatal("want error")
	}
	msg := err.Error()
	for _, want := range []string{"CLUSTER_NAME", "COLLECTOR_URL", "CLAIM_GROUP is required", "only one of COLLECTOR_TOKEN",
		"COLLECTOR_CA_FILE", "AGENT_BATCH_SIZE", "AGENT_FLUSH_INTERVAL", "AGENT_RESYNC_PERIOD", "AGENT_LOG_LEVEL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "do-not-print-me") {
		t.Error("token value in the error")
	}
}

func TestRequiredVariables(t *testing.T) {
	_, err := FromEnv(env(nil))
	if err == nil || !strings.Contains(err.Error(), "CLUSTER_NAME is required") || !strings.Contains(err.Error(), "COLLECTOR_URL is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := FromEnv(env(map[string]string{"CLUSTER_NAME": "c1", "COLLECTOR_URL": "https://x", "COLLECTOR_CA_FILE": bad}))
	if err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Fatalf("err = %v", err)
	}
}

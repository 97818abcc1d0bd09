package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/httpserver"
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
		c.ResyncPeriod != 10*time.Minute || c.DiscoveryInterval != 30*time.Second || c.MetricsAddr != ":8096" ||
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
		"AGENT_METRICS_ADDR": "127.0.0.1:9000", "LOG_LEVEL": "debug", "LOG_FORMAT": "text",
		"HTTP_IDLE_TIMEOUT": "2s", "HTTP_MAX_HEADER_BYTES": "8192",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DiscoveryMode() || c.ClaimVersion != "v1" || c.BatchSize != 1000 || c.FlushInterval != 250*time.Millisecond ||
		c.ResyncPeriod != 0 || c.MetricsAddr != "127.0.0.1:9000" ||
		c.HTTP.IdleTimeout != 2*time.Second || c.HTTP.MaxHeaderBytes != 8192 || c.HTTP.ReadTimeout != httpserver.Defaults().ReadTimeout {
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

// Every problem, the logger's included, in one error with exact lines.
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
		"LOG_FORMAT":           "xml",
		"HTTP_IDLE_TIMEOUT":    "forever",
	}))
	want := `invalid configuration (11 problems):
  CLUSTER_NAME: "Not_A_Label" must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)
  COLLECTOR_URL: "ftp://x" must be an http:// or https:// URL
  CLAIM_GROUP: is required when CLAIM_RESOURCE is set
  COLLECTOR_TOKEN: set only one of COLLECTOR_TOKEN and COLLECTOR_TOKEN_FILE
  COLLECTOR_CA_FILE: cannot read /nonexistent/ca.pem: no such file or directory
  AGENT_BATCH_SIZE: 5000 is out of range [1, 1000]
  AGENT_FLUSH_INTERVAL: "soon" is not a duration like 30s or 5m
  AGENT_RESYNC_PERIOD: 10ms is shorter than the minimum 1s
  HTTP_IDLE_TIMEOUT: "forever" is not a duration like 30s or 5m
  LOG_LEVEL: "loud" is not one of debug, info, warn, error
  LOG_FORMAT: "xml" is not json or text`
	if err == nil || err.Error() != want {
		t.Fatalf("err =\n%v\nwant\n%s", err, want)
	}
	if strings.Contains(err.Error(), "do-not-print-me") {
		t.Error("token value in the error")
	}
}

// LOG_LEVEL wins over the old AGENT_LOG_LEVEL, which still works alone.
func TestLogLevelAlias(t *testing.T) {
	base := map[string]string{"CLUSTER_NAME": "c1", "COLLECTOR_URL": "http://x"}
	for _, tc := range []struct {
		env     map[string]string
		wantErr string
	}{
		{map[string]string{"AGENT_LOG_LEVEL": "debug"}, ""},
		{map[string]string{"AGENT_LOG_LEVEL": "loud"}, `LOG_LEVEL: "loud"`},
		{map[string]string{"AGENT_LOG_LEVEL": "loud", "LOG_LEVEL": "warn"}, ""},
		{map[string]string{"LOG_LEVEL": "loud"}, `LOG_LEVEL: "loud"`},
	} {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range tc.env {
			m[k] = v
		}
		_, err := FromEnv(env(m))
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%v: err = %v, want %q", tc.env, err, tc.wantErr)
		}
	}
}

func TestRequiredVariables(t *testing.T) {
	_, err := FromEnv(env(nil))
	want := `invalid configuration (2 problems):
  CLUSTER_NAME: is required (this cluster's name, a DNS-1123 label)
  COLLECTOR_URL: is required (the collector's base URL, http:// or https://)`
	if err == nil || err.Error() != want {
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

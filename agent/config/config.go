// Package config reads the agent's configuration from its environment,
// through shared/config like the functions: every problem is reported at
// once, and --help lists the variables with their defaults.
package config

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	sconfig "github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/httpserver"
	"github.com/stuttgart-things/machinery-status-collector/shared/logging"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// Defaults and limits of the tunables.
const (
	DefaultClaimVersion      = "v1alpha1"
	DefaultBatchSize         = 500
	MaxBatchSize             = 1000 // the collector refuses bigger batches
	DefaultFlushInterval     = time.Second
	DefaultResyncPeriod      = 10 * time.Minute
	DefaultDiscoveryInterval = 30 * time.Second
	DefaultMaxBackoff        = time.Minute
	// DefaultMetricsAddr is beside the local collector's :8095 and clear
	// of the functions' :8080, so all run on one machine.
	DefaultMetricsAddr = ":8096"
)

// Config is everything the agent needs to run. The zero value is not
// usable; build it with FromOS or FromEnv.
type Config struct {
	ClusterName  string   // CLUSTER_NAME, required, a DNS-1123 label
	CollectorURL *url.URL // COLLECTOR_URL, required, http or https

	// One GVR when ClaimResource is set; otherwise every resource in the
	// "claim" category, restricted to ClaimGroup when that is set.
	ClaimGroup     string // CLAIM_GROUP
	ClaimVersion   string // CLAIM_VERSION, default v1alpha1 (single-GVR mode only)
	ClaimResource  string // CLAIM_RESOURCE
	ClaimNamespace string // CLAIM_NAMESPACE, empty = all namespaces

	Kubeconfig string // KUBECONFIG; in-cluster config wins when present

	// Token returns the bearer token for the collector. With
	// COLLECTOR_TOKEN_FILE it re-reads the file on every call, so a
	// rotated or fixed Secret is picked up without a restart. Nil when no
	// token is configured (the collector may run open).
	Token     func() (string, error)
	CAFile    string         // COLLECTOR_CA_FILE
	CertPool  *x509.CertPool // system roots plus CAFile; nil without CAFile
	BatchSize int            // AGENT_BATCH_SIZE, 1..1000, default 500

	FlushInterval     time.Duration // AGENT_FLUSH_INTERVAL, default 1s
	ResyncPeriod      time.Duration // AGENT_RESYNC_PERIOD, default 10m, 0 disables
	DiscoveryInterval time.Duration // AGENT_DISCOVERY_INTERVAL, default 30s
	MaxBackoff        time.Duration // AGENT_MAX_BACKOFF, default 1m
	MetricsAddr       string        // AGENT_METRICS_ADDR, default :8096
	// HTTP bounds the probe server's clients (HTTP_*, as on every server
	// of the project).
	HTTP httpserver.Config
}

// DiscoveryMode reports whether the agent discovers claim resources by
// category instead of watching one configured resource.
func (c *Config) DiscoveryMode() bool { return c.ClaimResource == "" }

// Getenv looks up one variable; os.Getenv fits.
type Getenv func(string) string

// --help lists what ConfigFromEnv reads.
var _ = sconfig.Register(ConfigFromEnv)

// FromOS reads the process environment: the agent's settings and its
// logger (LOG_LEVEL, or the old AGENT_LOG_LEVEL, and LOG_FORMAT). The
// error lists every problem, one per line; secrets never appear in it.
func FromOS() (Config, *slog.Logger, error) { return load(sconfig.FromOS()) }

// FromEnv is FromOS over getenv, for tests and checks; the logger it
// validates is dropped.
func FromEnv(getenv Getenv) (Config, error) {
	c, _, err := load(sconfig.FromFunc(getenv))
	return c, err
}

// load reads the settings, then the logger, and joins their problems.
func load(e *sconfig.Env) (Config, *slog.Logger, error) {
	c := ConfigFromEnv(e)
	log := logging.FromEnv(e)
	return c, log, e.Err()
}

// ConfigFromEnv reads the agent's variables, recording every problem in e.
func ConfigFromEnv(e *sconfig.Env) Config {
	e.Alias("LOG_LEVEL", "AGENT_LOG_LEVEL") // the agent's old name
	c := Config{
		ClusterName:    clusterName(e),
		CollectorURL:   collectorURL(e),
		ClaimGroup:     e.Get("CLAIM_GROUP"),
		ClaimVersion:   e.String("CLAIM_VERSION", DefaultClaimVersion),
		ClaimResource:  e.Get("CLAIM_RESOURCE"),
		ClaimNamespace: e.Get("CLAIM_NAMESPACE"),
		Kubeconfig:     e.Get("KUBECONFIG"),
		CAFile:         e.Get("COLLECTOR_CA_FILE"),
		MetricsAddr:    e.String("AGENT_METRICS_ADDR", DefaultMetricsAddr),
	}
	if c.ClaimResource != "" && c.ClaimGroup == "" {
		e.Fail("CLAIM_GROUP", "is required when CLAIM_RESOURCE is set")
	}
	c.Token = token(e)
	c.CertPool = certPool(e, c.CAFile)
	c.BatchSize = e.Int("AGENT_BATCH_SIZE", DefaultBatchSize, 1, MaxBatchSize)
	c.FlushInterval = e.Duration("AGENT_FLUSH_INTERVAL", DefaultFlushInterval, time.Millisecond)
	c.ResyncPeriod = resyncPeriod(e)
	c.DiscoveryInterval = e.Duration("AGENT_DISCOVERY_INTERVAL", DefaultDiscoveryInterval, 100*time.Millisecond)
	c.MaxBackoff = e.Duration("AGENT_MAX_BACKOFF", DefaultMaxBackoff, 100*time.Millisecond)
	c.HTTP = httpserver.ConfigFromEnv(e)
	return c
}

// clusterName is the required CLUSTER_NAME, checked as the ingest checks
// a batch's cluster.
func clusterName(e *sconfig.Env) string {
	name := e.Required("CLUSTER_NAME", "this cluster's name, a DNS-1123 label")
	if name != "" {
		e.Add(status.ValidateCluster("CLUSTER_NAME", name))
	}
	return name
}

// collectorURL parses the required http(s) COLLECTOR_URL with a host;
// nil after a problem.
func collectorURL(e *sconfig.Env) *url.URL {
	raw := e.Required("COLLECTOR_URL", "the collector's base URL, http:// or https://")
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		e.Fail("COLLECTOR_URL", "%q must be an http:// or https:// URL", raw)
		return nil
	}
	return u
}

// resyncPeriod is AGENT_RESYNC_PERIOD: at least a second, or 0 to switch
// the periodic full re-send off.
func resyncPeriod(e *sconfig.Env) time.Duration {
	if d, err := time.ParseDuration(e.Get("AGENT_RESYNC_PERIOD")); err == nil && d == 0 {
		return 0
	}
	return e.Duration("AGENT_RESYNC_PERIOD", DefaultResyncPeriod, time.Second)
}

// token picks COLLECTOR_TOKEN or COLLECTOR_TOKEN_FILE (not both) and checks
// the file is readable now, so a wrong mount fails at start.
func token(e *sconfig.Env) func() (string, error) {
	literal := e.Get("COLLECTOR_TOKEN")
	file := e.Get("COLLECTOR_TOKEN_FILE")
	switch {
	case literal != "" && file != "":
		e.Fail("COLLECTOR_TOKEN", "set only one of COLLECTOR_TOKEN and COLLECTOR_TOKEN_FILE")
		return nil
	case literal != "":
		return func() (string, error) { return literal, nil }
	case file != "":
		read := func() (string, error) {
			b, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("read COLLECTOR_TOKEN_FILE: %w", err)
			}
			tok := strings.TrimSpace(string(b))
			if tok == "" {
				return "", fmt.Errorf("COLLECTOR_TOKEN_FILE %s is empty", file)
			}
			return tok, nil
		}
		if _, err := read(); err != nil {
			e.Fail("COLLECTOR_TOKEN_FILE", "%v", err)
		}
		return read
	}
	return nil
}

// certPool is the system roots plus the PEM certificates in file; nil
// without file or after a problem.
func certPool(e *sconfig.Env, file string) *x509.CertPool {
	if file == "" {
		return nil
	}
	pem := e.File("COLLECTOR_CA_FILE")
	if pem == nil {
		return nil // e.File recorded why
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		// No system roots (scratch image): the configured CA alone is enough.
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		e.Fail("COLLECTOR_CA_FILE", "%s holds no PEM certificate", file)
		return nil
	}
	return pool
}

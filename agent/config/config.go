// Package config reads the agent's configuration from its environment.
package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

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
	DefaultMetricsAddr       = ":8080"
)

// Config is everything the agent needs to run. The zero value is not
// usable; build it with FromEnv.
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
	MetricsAddr       string        // AGENT_METRICS_ADDR, default :8080
	LogLevel          slog.Level    // AGENT_LOG_LEVEL, default info
}

// DiscoveryMode reports whether the agent discovers claim resources by
// category instead of watching one configured resource.
func (c *Config) DiscoveryMode() bool { return c.ClaimResource == "" }

// Getenv looks up one variable; os.Getenv fits.
type Getenv func(string) string

// FromEnv builds a Config from the environment. It checks every variable
// and returns all problems at once (joined, one per line), so an operator
// fixes a Deployment in one round. Secrets never appear in the errors.
func FromEnv(getenv Getenv) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		ClusterName:    p.str("CLUSTER_NAME"),
		ClaimGroup:     p.str("CLAIM_GROUP"),
		ClaimVersion:   p.str("CLAIM_VERSION"),
		ClaimResource:  p.str("CLAIM_RESOURCE"),
		ClaimNamespace: p.str("CLAIM_NAMESPACE"),
		Kubeconfig:     p.str("KUBECONFIG"),
		CAFile:         p.str("COLLECTOR_CA_FILE"),
		MetricsAddr:    p.str("AGENT_METRICS_ADDR"),
	}
	if c.ClusterName == "" {
		p.fail("CLUSTER_NAME is required")
	} else if err := status.ValidateCluster("CLUSTER_NAME", c.ClusterName); err != nil {
		p.fail("%v", err)
	}
	c.CollectorURL = p.url("COLLECTOR_URL")
	if c.ClaimVersion == "" {
		c.ClaimVersion = DefaultClaimVersion
	}
	if c.ClaimResource != "" && c.ClaimGroup == "" {
		p.fail("CLAIM_GROUP is required when CLAIM_RESOURCE is set")
	}
	if c.MetricsAddr == "" {
		c.MetricsAddr = DefaultMetricsAddr
	}
	c.Token = p.token()
	c.CertPool = p.certPool(c.CAFile)
	c.BatchSize = p.intIn("AGENT_BATCH_SIZE", DefaultBatchSize, 1, MaxBatchSize)
	c.FlushInterval = p.duration("AGENT_FLUSH_INTERVAL", DefaultFlushInterval, time.Millisecond, false)
	c.ResyncPeriod = p.duration("AGENT_RESYNC_PERIOD", DefaultResyncPeriod, time.Second, true)
	c.DiscoveryInterval = p.duration("AGENT_DISCOVERY_INTERVAL", DefaultDiscoveryInterval, 100*time.Millisecond, false)
	c.MaxBackoff = p.duration("AGENT_MAX_BACKOFF", DefaultMaxBackoff, 100*time.Millisecond, false)
	c.LogLevel = p.level("AGENT_LOG_LEVEL")
	return c, p.err()
}

// parser collects problems instead of stopping at the first.
type parser struct {
	getenv   Getenv
	problems []error
}

// fail records one problem.
func (p *parser) fail(format string, args ...any) {
	p.problems = append(p.problems, fmt.Errorf(format, args...))
}

// err joins every recorded problem, nil when there were none.
func (p *parser) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return fmt.Errorf("invalid agent configuration:\n%w", errors.Join(p.problems...))
}

// str is a trimmed variable; surrounding blanks are a copy-paste accident.
func (p *parser) str(name string) string { return strings.TrimSpace(p.getenv(name)) }

// url parses a required http(s) URL with a host; nil after a problem.
func (p *parser) url(name string) *url.URL {
	raw := p.str(name)
	if raw == "" {
		p.fail("%s is required", name)
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail("%s %q must be an http:// or https:// URL", name, raw)
		return nil
	}
	return u
}

// intIn parses an integer in [lo, hi], def when unset or invalid.
func (p *parser) intIn(name string, def, lo, hi int) int {
	raw := p.str(name)
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		p.fail("%s %q must be an integer from %d to %d", name, raw, lo, hi)
		return def
	}
	return n
}

// duration parses a Go duration of at least lo; zeroOK allows "0" to
// switch the feature off.
func (p *parser) duration(name string, def, lo time.Duration, zeroOK bool) time.Duration {
	raw := p.str(name)
	if raw == "" {
		return def
	}
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil:
		p.fail("%s %q must be a Go duration such as 1s or 10m", name, raw)
	case d == 0 && zeroOK:
		return 0
	case d < lo:
		p.fail("%s %q must be at least %s", name, raw, lo)
	default:
		return d
	}
	return def
}

// level parses a slog level name, info when unset.
func (p *parser) level(name string) slog.Level {
	var l slog.Level
	if raw := p.str(name); raw != "" {
		if err := l.UnmarshalText([]byte(raw)); err != nil {
			p.fail("%s %q must be debug, info, warn or error", name, raw)
		}
	}
	return l
}

// token picks COLLECTOR_TOKEN or COLLECTOR_TOKEN_FILE (not both) and checks
// the file is readable now, so a wrong mount fails at start.
func (p *parser) token() func() (string, error) {
	literal := p.str("COLLECTOR_TOKEN")
	file := p.str("COLLECTOR_TOKEN_FILE")
	switch {
	case literal != "" && file != "":
		p.fail("set only one of COLLECTOR_TOKEN and COLLECTOR_TOKEN_FILE")
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
			p.fail("%v", err)
		}
		return read
	}
	return nil
}

// certPool is the system roots plus the PEM certificates in file; nil
// without file or after a problem.
func (p *parser) certPool(file string) *x509.CertPool {
	if file == "" {
		return nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		p.fail("read COLLECTOR_CA_FILE: %v", err)
		return nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		// No system roots (scratch image): the configured CA alone is enough.
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		p.fail("COLLECTOR_CA_FILE %s holds no PEM certificate", file)
		return nil
	}
	return pool
}

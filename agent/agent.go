// Package agent wires the cluster agent: informers (watch) feed a
// controller that sends changed claim statuses to the collector (sender),
// with probes and metrics (health, metrics). See doc.go for the behaviour
// and the RBAC it needs.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/stuttgart-things/machinery-status-collector/agent/config"
	"github.com/stuttgart-things/machinery-status-collector/agent/controller"
	"github.com/stuttgart-things/machinery-status-collector/agent/health"
	"github.com/stuttgart-things/machinery-status-collector/agent/metrics"
	"github.com/stuttgart-things/machinery-status-collector/agent/sender"
	"github.com/stuttgart-things/machinery-status-collector/agent/watch"
	"github.com/stuttgart-things/machinery-status-collector/shared/buildinfo"
)

// UserAgent identifies the agent to the API server and the collector.
const UserAgent = "machinery-status-agent"

// Options are the knobs that do not come from the environment; the zero
// value is what production uses.
type Options struct {
	Logger *slog.Logger // default slog.Default()
	// HTTP is the client for the collector; nil builds one from the
	// config's CA pool.
	HTTP *http.Client
	// BackoffBase is the first retry delay, default 500ms.
	BackoffBase time.Duration
	// InformerResync turns on client-go's informer resync (benchmarks
	// use it to show such resyncs cost no requests).
	InformerResync time.Duration
}

// Agent is a configured, not yet running agent.
type Agent struct {
	Watcher    *watch.Watcher
	Controller *controller.Controller
	Metrics    *metrics.Metrics

	cfg config.Config
	log *slog.Logger
}

// New builds an agent for cfg talking to the API server of rc.
func New(cfg config.Config, rc *rest.Config, opts Options) (*Agent, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	rc = rest.CopyConfig(rc)
	rc.UserAgent = UserAgent
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	m := metrics.New()
	hc := opts.HTTP
	if hc == nil {
		hc = collectorHTTP(cfg)
	}
	snd := sender.New(sender.Options{URL: cfg.CollectorURL, Token: cfg.Token, HTTP: hc, UserAgent: UserAgent})

	a := &Agent{Metrics: m, cfg: cfg, log: log}
	wopts := watch.Options{
		Client:            dyn,
		Group:             cfg.ClaimGroup,
		DiscoveryInterval: cfg.DiscoveryInterval,
		Namespace:         cfg.ClaimNamespace,
		InformerResync:    opts.InformerResync,
		Logger:            log,
		Metrics:           m,
	}
	if cfg.DiscoveryMode() {
		dc, err := discovery.NewDiscoveryClientForConfig(rc)
		if err != nil {
			return nil, fmt.Errorf("discovery client: %w", err)
		}
		wopts.Discovery = dc
	} else {
		wopts.Resource = &schema.GroupVersionResource{Group: cfg.ClaimGroup, Version: cfg.ClaimVersion, Resource: cfg.ClaimResource}
	}
	// The controller is the watcher's handler and the watcher the
	// controller's source: bind through a forwarding handler.
	fwd := &forward{}
	wopts.Handler = fwd
	a.Watcher = watch.New(wopts)
	a.Controller = controller.New(a.Watcher, snd, controller.Options{
		Cluster:       cfg.ClusterName,
		BatchSize:     cfg.BatchSize,
		FlushInterval: cfg.FlushInterval,
		ResyncPeriod:  cfg.ResyncPeriod,
		Backoff:       sender.Backoff{Base: opts.BackoffBase, Max: cfg.MaxBackoff},
		Metrics:       m,
		Logger:        log,
	})
	fwd.Handler = a.Controller
	m.Gauges(a.Controller.QueueLen, a.Watcher.Len)
	return a, nil
}

// forward lets the watcher be built before the controller it feeds.
type forward struct{ watch.Handler }

// Ready is nil when every informer has synced and the last request to the
// collector succeeded (or none failed yet).
func (a *Agent) Ready() error {
	if !a.Watcher.Synced() {
		return errors.New("claim informers not synced yet")
	}
	if err := a.Controller.LastSendErr(); err != nil {
		return fmt.Errorf("last send to the collector failed: %w", err)
	}
	return nil
}

// Handler serves /healthz, /readyz and /metrics.
func (a *Agent) Handler() http.Handler { return health.Handler(a.Ready, a.Metrics.Registry) }

// Run watches and sends until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.Watcher.Run(ctx) }()
	go func() { defer wg.Done(); a.Controller.Run(ctx) }()
	wg.Wait()
}

// Main runs the agent of cfg with its probe server until ctx ends: the
// whole program behind agent/cmd.
func Main(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	// client-go logs through klog; send it to the same structured log.
	klog.SetSlogLogger(log)
	rc, err := config.RESTConfig(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	a, err := New(cfg, rc, Options{Logger: log})
	if err != nil {
		return err
	}
	srv := health.Server(a.Handler(), cfg.HTTP, log)
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on AGENT_METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
	}
	go func() {
		if err := srv.Serve(ctx, ln); err != nil {
			log.Error("probe server stopped", "error", err.Error())
		}
	}()
	mode := "resource " + cfg.ClaimResource + "." + cfg.ClaimGroup
	if cfg.DiscoveryMode() {
		mode = "category " + watch.Category
	}
	log.Info("agent starting", "cluster", cfg.ClusterName, "collector", cfg.CollectorURL.Redacted(),
		"claims", mode, "namespace", cfg.ClaimNamespace, "probes", ln.Addr().String(),
		"batchSize", cfg.BatchSize, "flushInterval", cfg.FlushInterval, "resyncPeriod", cfg.ResyncPeriod,
		"bearerToken", cfg.Token != nil, "version", buildinfo.Version, "commit", buildinfo.Commit())
	if cfg.Token == nil {
		log.Warn("no COLLECTOR_TOKEN or COLLECTOR_TOKEN_FILE: sending without authentication; a collector with INGEST_TOKENS will answer 401")
	}
	a.Run(ctx)
	log.Info("agent stopped")
	return nil
}

// collectorHTTP is the client for the collector: default transport
// settings plus the configured CA, and a timeout per request.
func collectorHTTP(cfg config.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.CertPool != nil {
		tr.TLSClientConfig.RootCAs = cfg.CertPool
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Command agent watches Crossplane claims in one cluster and sends their
// status to the machinery-status-collector. Configuration is environment
// only; see package agent/config, or run it with --help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stuttgart-things/machinery-status-collector/agent"
	"github.com/stuttgart-things/machinery-status-collector/agent/config"
	sconfig "github.com/stuttgart-things/machinery-status-collector/shared/config"
)

// main reads the environment, then runs the agent until SIGINT/SIGTERM;
// exit code 2 for bad configuration, 1 for a failure at start.
func main() {
	sconfig.ExitOnHelp("agent: watches the Crossplane claims of one cluster and sends their status to the collector")
	cfg, log, err := config.FromOS()
	if err != nil {
		log.Error(err.Error())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := agent.Main(ctx, cfg, log); err != nil {
		log.Error("agent failed", "error", err.Error())
		os.Exit(1)
	}
}

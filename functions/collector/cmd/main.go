// Command collector runs ingest and reconcile in one local process (make run).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stuttgart-things/machinery-status-collector/functions/collector"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

func main() {
	config.ExitOnHelp("collector: ingest and reconcile in one local process on COLLECTOR_PORT (make run)")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := collector.Main(ctx)
	stop()
	os.Exit(code)
}

// Command reconcile serves the reconcile function (FUNCTION_TARGET=reconcile)
// on $PORT until SIGTERM, or with --once runs one reconcile and exits (for
// a CronJob).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stuttgart-things/machinery-status-collector/functions/reconcile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := reconcile.Main(ctx, os.Args[1:], os.Stdout)
	stop()
	os.Exit(code)
}

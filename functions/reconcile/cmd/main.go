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
	"github.com/stuttgart-things/machinery-status-collector/shared/bootstrap"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

// --help lists the server's variables beside the function's own.
var _ = bootstrap.Register(reconcile.FunctionTarget)

func main() {
	config.ExitOnHelp("reconcile [--once]: the reconcile function (FUNCTION_TARGET=reconcile) under functions-framework on $PORT; --once runs one reconcile, prints its result JSON and exits")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := reconcile.Main(ctx, os.Args[1:], os.Stdout)
	stop()
	os.Exit(code)
}

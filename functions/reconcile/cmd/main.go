// Command reconcile serves the reconcile function with functions-framework
// on $PORT, or with --once runs one reconcile and exits (for a CronJob).
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/stuttgart-things/machinery-status-collector/functions/reconcile"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

func main() {
	config.ExitOnHelp("reconcile [--once]: the reconcile function (FUNCTION_TARGET=reconcile) under functions-framework on $PORT; --once runs one reconcile, prints its result JSON and exits")
	once := flag.Bool("once", false, "run one reconcile, print its result JSON, exit non-zero on failure")
	flag.Parse()
	if *once {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := reconcile.Once(ctx, os.Stdout)
		stop()
		os.Exit(code)
	}
	if _, err := reconcile.Default(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Setenv("FUNCTION_TARGET", cmp.Or(os.Getenv("FUNCTION_TARGET"), reconcile.FunctionTarget))
	if err := funcframework.Start(cmp.Or(os.Getenv("PORT"), "8080")); err != nil {
		fmt.Fprintln(os.Stderr, "reconcile:", err)
		os.Exit(1)
	}
}

// Command ingest serves the ingest function (FUNCTION_TARGET=ingest) on
// $PORT until SIGTERM.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stuttgart-things/machinery-status-collector/functions/ingest"
	"github.com/stuttgart-things/machinery-status-collector/shared/bootstrap"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

// --help lists the server's variables beside the function's own.
var _ = bootstrap.Register(ingest.FunctionTarget)

func main() {
	config.ExitOnHelp("ingest: the ingest function (FUNCTION_TARGET=ingest) under functions-framework on $PORT")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ingest.Main(ctx)
	stop()
	os.Exit(code)
}

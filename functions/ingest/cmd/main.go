// Command ingest serves the ingest function with functions-framework on $PORT.
package main

import (
	"cmp"
	"fmt"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/stuttgart-things/machinery-status-collector/functions/ingest"
	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

func main() {
	config.ExitOnHelp("ingest: the ingest function (FUNCTION_TARGET=ingest) under functions-framework on $PORT")
	if _, err := ingest.Default(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Setenv("FUNCTION_TARGET", cmp.Or(os.Getenv("FUNCTION_TARGET"), ingest.FunctionTarget))
	if err := funcframework.Start(cmp.Or(os.Getenv("PORT"), "8080")); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

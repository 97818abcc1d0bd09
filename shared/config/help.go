package config

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"text/tabwriter"
)

// loaders are the configuration loaders of the packages linked into this
// binary, in init order; Help runs them to learn their variables.
var (
	loadersMu sync.Mutex
	loaders   []func(*Env)
)

// Register adds a package's configuration loader to what --help lists.
// Packages call it once from a package-level var, so a binary describes
// exactly the loaders it links: var _ = config.Register(ConfigFromEnv).
func Register[C any](load func(*Env) C) bool {
	loadersMu.Lock()
	defer loadersMu.Unlock()
	loaders = append(loaders, func(e *Env) { load(e) })
	return true
}

// Describe runs each loader against an empty environment and returns the
// variables they read, with their declared defaults. A loader must have no
// side effect beyond reading the environment.
func Describe(load ...func(*Env)) []Var {
	e := FromMap(nil)
	for _, l := range load {
		l(e)
	}
	return e.Vars()
}

// Registered describes the variables of every registered loader.
func Registered() []Var {
	loadersMu.Lock()
	load := slices.Clone(loaders)
	loadersMu.Unlock()
	return Describe(load...)
}

// Help writes about, then every variable of the registered loaders with
// its default, one per line.
func Help(w io.Writer, about string) error { return writeHelp(w, about, Registered()) }

// writeHelp formats the --help text for vars.
func writeHelp(w io.Writer, about string, vars []Var) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n\nSettings come from the environment (README.md, Configuration, explains each):\n\n", about)
	fmt.Fprintf(tw, "  VARIABLE\tDEFAULT\n")
	for _, v := range vars {
		def := v.Default
		switch {
		case v.Required:
			def = "required"
		case def == "":
			def = "-"
		}
		if v.Alias != "" {
			def += " (also read as " + v.Alias + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", v.Name, def)
	}
	return tw.Flush()
}

// ExitOnHelp prints Help to stdout and exits 0 when the command line
// asks for help (-h, -help or --help); otherwise it returns. Mains call it
// first, before they read flags or the environment.
func ExitOnHelp(about string) {
	for _, a := range os.Args[1:] {
		if a == "-h" || a == "-help" || a == "--help" {
			if err := Help(os.Stdout, about); err != nil {
				os.Exit(1)
			}
			os.Exit(0)
		}
	}
}

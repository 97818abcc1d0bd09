// Package config reads settings from environment variables and collects
// every problem, so an operator sees all missing or invalid variables in
// one start-up error instead of fixing them one at a time.
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads variables through Lookup, remembers each problem, and records
// every variable it was asked for with its default (see Vars), which is
// what --help prints.
type Env struct {
	lookup  func(string) (string, bool)
	errs    []error
	vars    []Var
	aliases map[string]string // new name -> old name
}

// Var is one variable a loader read: its name, the default it declared
// ("" when none), whether it is required, and the old name it is also
// read under.
type Var struct {
	Name, Default string
	Required      bool
	Alias         string
}

// FromOS reads the process environment.
func FromOS() *Env { return &Env{lookup: os.LookupEnv} }

// FromMap reads a fixed set of variables, for tests.
func FromMap(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// FromFunc reads variables through getenv, where unset and empty are alike.
func FromFunc(getenv func(string) string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v := getenv(k); return v, v != "" }}
}

// Alias makes name also readable under its old name: when name is unset,
// old's value is used. Call it before name is read.
func (e *Env) Alias(name, old string) {
	if e.aliases == nil {
		e.aliases = map[string]string{}
	}
	e.aliases[name] = old
	e.note(name, "", false).Alias = old
}

// Declare records def as the default of name, for a variable read by
// code that does not go through Env (such as a getenv function).
func (e *Env) Declare(name, def string) { e.note(name, def, false) }

// Vars returns every variable read so far, in the order of first read.
func (e *Env) Vars() []Var { return e.vars }

// note records that name was read, with its default and whether it is
// required, keeping what an earlier read declared.
func (e *Env) note(name, def string, required bool) *Var {
	for i := range e.vars {
		if v := &e.vars[i]; v.Name == name {
			if v.Default == "" {
				v.Default = def
			}
			v.Required = v.Required || required
			return v
		}
	}
	e.vars = append(e.vars, Var{Name: name, Default: def, Required: required})
	return &e.vars[len(e.vars)-1]
}

// Get returns the trimmed value of name (or of its alias when name is
// unset), or "" when unset.
func (e *Env) Get(name string) string {
	e.note(name, "", false)
	v, ok := e.lookup(name)
	if old, aliased := e.aliases[name]; aliased && (!ok || strings.TrimSpace(v) == "") {
		v, _ = e.lookup(old)
	}
	return strings.TrimSpace(v)
}

// String returns name's value, or def when unset or empty.
func (e *Env) String(name, def string) string {
	e.note(name, def, false)
	if v := e.Get(name); v != "" {
		return v
	}
	return def
}

// Required returns name's value and records an error when it is unset or empty.
func (e *Env) Required(name, hint string) string {
	e.note(name, "", true)
	v := e.Get(name)
	if v == "" {
		e.Fail(name, "is required (%s)", hint)
	}
	return v
}

// Int returns name as an integer within [min, max], or def when unset.
func (e *Env) Int(name string, def, min, max int) int {
	e.note(name, strconv.Itoa(def), false)
	v := e.Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.Fail(name, "%q is not an integer", v)
		return def
	}
	if n < min || n > max {
		e.Fail(name, "%d is out of range [%d, %d]", n, min, max)
		return def
	}
	return n
}

// Duration returns name as a Go duration of at least min, or def when unset.
func (e *Env) Duration(name string, def, min time.Duration) time.Duration {
	e.note(name, formatDuration(def), false)
	v := e.Get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.Fail(name, "%q is not a duration like 30s or 5m", v)
		return def
	}
	if d < min {
		e.Fail(name, "%s is shorter than the minimum %s", d, min)
		return def
	}
	return d
}

// Bool returns name as a boolean (true/false/1/0), or def when unset.
func (e *Env) Bool(name string, def bool) bool {
	e.note(name, strconv.FormatBool(def), false)
	v := e.Get(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.Fail(name, "%q is not true or false", v)
		return def
	}
	return b
}

// File returns the content of the file named by variable name, or nil when
// the variable is unset. A file that cannot be read is recorded as an error.
func (e *Env) File(name string) []byte {
	path := e.Get(name)
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		e.Fail(name, "cannot read %s: %v", path, errors.Unwrap(err))
		return nil
	}
	return b
}

// Fail records a problem with variable name. The message must not contain
// the variable's value when it may be a secret.
func (e *Env) Fail(name, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// Err returns every recorded problem as one error, one per line, or nil.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = "  " + err.Error()
	}
	noun := "problems"
	if len(e.errs) == 1 {
		noun = "problem"
	}
	return fmt.Errorf("invalid configuration (%d %s):\n%s", len(e.errs), noun, strings.Join(msgs, "\n"))
}

// Add records problems that already name their variable, such as the
// joined error of another package's validation (one problem per line).
func (e *Env) Add(err error) {
	if err == nil {
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			e.errs = append(e.errs, errors.New(line))
		}
	}
}

// formatDuration writes d as an operator would type it: 5m, not 5m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

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

// Env reads variables through Lookup and remembers each problem.
type Env struct {
	lookup func(string) (string, bool)
	errs   []error
}

// FromOS reads the process environment.
func FromOS() *Env { return &Env{lookup: os.LookupEnv} }

// FromMap reads a fixed set of variables, for tests.
func FromMap(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// Get returns the trimmed value of name, or "" when unset.
func (e *Env) Get(name string) string {
	v, _ := e.lookup(name)
	return strings.TrimSpace(v)
}

// String returns name's value, or def when unset or empty.
func (e *Env) String(name, def string) string {
	if v := e.Get(name); v != "" {
		return v
	}
	return def
}

// Required returns name's value and records an error when it is unset or empty.
func (e *Env) Required(name, hint string) string {
	v := e.Get(name)
	if v == "" {
		e.Fail(name, "is required (%s)", hint)
	}
	return v
}

// Int returns name as an integer within [min, max], or def when unset.
func (e *Env) Int(name string, def, min, max int) int {
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
	return fmt.Errorf("invalid configuration (%d problems):\n%s", len(e.errs), strings.Join(msgs, "\n"))
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

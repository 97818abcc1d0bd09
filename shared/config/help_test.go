package config

import (
	"bytes"
	"testing"
	"time"
)

// A loader as the packages write them: defaults declared at the read.
func sampleLoader(e *Env) struct{} {
	e.Alias("LOG_LEVEL", "OLD_LOG_LEVEL")
	e.String("LOG_LEVEL", "info")
	e.Required("NAME", "a name")
	e.Int("PORT", 8095, 1, 65535)
	e.Duration("INTERVAL", 5*time.Minute, time.Second)
	e.Duration("TIMEOUT", 90*time.Minute, time.Second)
	e.Bool("ADD", false)
	e.Get("PLAIN")
	e.Get("ELSEWHERE")
	e.Declare("ELSEWHERE", "main")
	e.String("PORT", "ignored: the first declaration wins")
	return struct{}{}
}

func TestDescribeAndHelp(t *testing.T) {
	var load []func(*Env)
	load = append(load, func(e *Env) { sampleLoader(e) })
	var buf bytes.Buffer
	if err := writeHelp(&buf, "tool: does things", Describe(load...)); err != nil {
		t.Fatal(err)
	}
	want := `tool: does things

Settings come from the environment (README.md, Configuration, explains each):

  VARIABLE   DEFAULT
  LOG_LEVEL  info (also read as OLD_LOG_LEVEL)
  NAME       required
  PORT       8095
  INTERVAL   5m
  TIMEOUT    1h30m
  ADD        false
  PLAIN      -
  ELSEWHERE  main
`
	if buf.String() != want {
		t.Fatalf("help =\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestRegisterFeedsHelp(t *testing.T) {
	loadersMu.Lock()
	saved := loaders
	loaders = nil
	loadersMu.Unlock()
	t.Cleanup(func() { loadersMu.Lock(); loaders = saved; loadersMu.Unlock() })

	Register(sampleLoader)
	var buf bytes.Buffer
	if err := Help(&buf, "x"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("  NAME       required\n")) {
		t.Fatalf("registered loader missing from help:\n%s", &buf)
	}
}

func TestAlias(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"OLD_LOG_LEVEL": "debug"}, "debug"},
		{map[string]string{"OLD_LOG_LEVEL": "debug", "LOG_LEVEL": "warn"}, "warn"},
		{map[string]string{"LOG_LEVEL": "error"}, "error"},
		{nil, "info"},
	} {
		e := FromMap(tc.env)
		e.Alias("LOG_LEVEL", "OLD_LOG_LEVEL")
		if got := e.String("LOG_LEVEL", "info"); got != tc.want {
			t.Errorf("env %v: LOG_LEVEL = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func TestOneProblemIsSingular(t *testing.T) {
	e := FromFunc(func(string) string { return "" })
	e.Required("NAME", "a name")
	want := "invalid configuration (1 problem):\n  NAME: is required (a name)"
	if err := e.Err(); err == nil || err.Error() != want {
		t.Fatalf("Err() = %v, want %s", err, want)
	}
}

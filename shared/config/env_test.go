package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestEnvReportsEveryProblem(t *testing.T) {
	e := FromMap(map[string]string{
		"N": "x", "R": "2000", "D": "fast", "SHORT": "1ms", "B": "maybe", "F": "/nonexistent/file",
		"OK_N": " 7 ", "OK_D": "90s", "OK_B": "true", "OK_S": "v",
	})
	e.Int("N", 1, 0, 10)
	e.Int("R", 1, 0, 1000)
	e.Duration("D", time.Second, 0)
	e.Duration("SHORT", time.Second, time.Second)
	e.Bool("B", false)
	e.Required("MISSING", "the thing")
	e.File("F")
	if e.Int("OK_N", 1, 0, 10) != 7 || e.Duration("OK_D", 0, 0) != 90*time.Second || !e.Bool("OK_B", false) ||
		e.String("OK_S", "d") != "v" || e.String("UNSET", "d") != "d" {
		t.Fatal("valid values not read")
	}
	want := `invalid configuration (7 problems):
  N: "x" is not an integer
  R: 2000 is out of range [0, 1000]
  D: "fast" is not a duration like 30s or 5m
  SHORT: 1ms is shorter than the minimum 1s
  B: "maybe" is not true or false
  MISSING: is required (the thing)
  F: cannot read /nonexistent/file: no such file or directory`
	if got := e.Err(); got == nil || got.Error() != want {
		t.Fatalf("Err() =\n%v\nwant\n%s", got, want)
	}
}

func TestEnvFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("content"), 0o600)
	e := FromMap(map[string]string{"F": p})
	if got := string(e.File("F")); got != "content" || e.Err() != nil {
		t.Fatalf("File = %q, err %v", got, e.Err())
	}
	if e.File("UNSET") != nil {
		t.Fatal("unset file variable returned content")
	}
}

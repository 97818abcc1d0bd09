package reconcile

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// TestParseMemoryLimit: sizes with and without a unit, off, the default,
// and each kind of bad value with its reason.
func TestParseMemoryLimit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		err  string
	}{
		{"", -1, ""},
		{"off", 0, ""},
		{"0", 0, ""},
		{"128Mi", 128 << 20, ""},
		{"1Gi", 1 << 30, ""},
		{"65536Ki", 64 << 20, ""},
		{"50000000", 50000000, ""},
		{"31Mi", 0, "below the minimum 32Mi"},
		{"128MB", 0, `"128MB" is not a size`},
		{"-5Mi", 0, "is not a size"},
		{"99999999999Gi", 0, "is not a size"},
	} {
		got, err := parseMemoryLimit(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: got %d, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: got %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// TestMemoryLimit: the configured limit wins; by default 96 MiB, or
// three quarters of a smaller container limit (never below 32 MiB).
func TestMemoryLimit(t *testing.T) {
	for _, tt := range []struct {
		configured, container, want int64
	}{
		{-1, 0, DefaultMemoryLimit},
		{-1, 512 << 20, DefaultMemoryLimit},
		{-1, 128 << 20, 96 << 20},
		{-1, 64 << 20, 48 << 20},
		{-1, 16 << 20, 32 << 20},
		{0, 128 << 20, 0},
		{300 << 20, 128 << 20, 300 << 20},
	} {
		if got := memoryLimit(tt.configured, tt.container); got != tt.want {
			t.Errorf("memoryLimit(%d, %d) = %d, want %d", tt.configured, tt.container, got, tt.want)
		}
	}
}

// TestContainerMemory reads cgroup v2's and v1's files: a number is the
// limit, "max" or v1's huge "unlimited" value is none, a missing file is
// skipped.
func TestContainerMemory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "missing")
	for _, tt := range []struct {
		files []string
		want  int64
	}{
		{[]string{write("v2", "536870912\n")}, 512 << 20},
		{[]string{write("v2max", "max\n")}, 0},
		{[]string{missing, write("v1", "268435456\n")}, 256 << 20},
		{[]string{write("v1huge", "9223372036854771712\n")}, 0},
		{[]string{missing}, 0},
	} {
		if got := containerMemory(tt.files); got != tt.want {
			t.Errorf("containerMemory(%v) = %d, want %d", tt.files, got, tt.want)
		}
	}
}

// TestSetMemoryLimit: the limit reaches the runtime, "off" leaves the
// runtime's own, and an unset variable defers to GOMEMLIMIT.
func TestSetMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	if got := setMemoryLimit(64 << 20); got != 64<<20 || debug.SetMemoryLimit(-1) != 64<<20 {
		t.Fatalf("set %d, runtime has %d", got, debug.SetMemoryLimit(-1))
	}
	debug.SetMemoryLimit(prev)
	if got := setMemoryLimit(0); got != 0 || debug.SetMemoryLimit(-1) != prev {
		t.Fatalf("off set %d, runtime has %d", got, debug.SetMemoryLimit(-1))
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := setMemoryLimit(-1); got != 0 || debug.SetMemoryLimit(-1) != prev {
		t.Fatalf("with GOMEMLIMIT set %d, runtime has %d", got, debug.SetMemoryLimit(-1))
	}
}

package reconcile

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultMemoryLimit is the soft memory limit a run keeps to when
// RECONCILE_MEMORY_LIMIT is unset. A 100k-claim single-file run peaks at
// about 75 MiB of live heap (records 32, file 15, registry 25); 96 MiB
// keeps its RSS near 108 MiB for the same CPU time as 128 MiB (1.9 s),
// where Go's default would let the heap double to about 150 MiB. A
// larger fleet only makes the collector run more often (Go caps it at
// half the CPU near the limit). Under a smaller container limit three
// quarters of that limit apply instead.
const DefaultMemoryLimit = 96 << 20

// minMemoryLimit is the least RECONCILE_MEMORY_LIMIT accepts: below it
// the collector would run almost without pause even for a small fleet.
const minMemoryLimit = 32 << 20

// cgroupLimitFiles hold the container's memory limit (cgroup v2, v1).
var cgroupLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// parseMemoryLimit reads RECONCILE_MEMORY_LIMIT: bytes, or a number with
// Ki, Mi or Gi; "off" (or 0) leaves the runtime's default (no limit, or
// GOMEMLIMIT); "" is the default (-1 here: derive it).
func parseMemoryLimit(v string) (int64, error) {
	switch v {
	case "":
		return -1, nil
	case "off", "0":
		return 0, nil
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if s, ok := strings.CutSuffix(v, suffix); ok {
			v, mult = s, m
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("%q is not a size like 128Mi, 1Gi or a number of bytes (or off)", v)
	}
	if n*mult < minMemoryLimit {
		return 0, fmt.Errorf("%d bytes is below the minimum 32Mi", n*mult)
	}
	return n * mult, nil
}

// memoryLimit is the soft limit to set: the configured one (0: none), or
// by default DefaultMemoryLimit lowered to three quarters of the
// container's limit (container; 0 when unknown or unlimited).
func memoryLimit(configured, container int64) int64 {
	if configured >= 0 {
		return configured
	}
	if container > 0 && container/4*3 < DefaultMemoryLimit {
		return max(container/4*3, minMemoryLimit)
	}
	return DefaultMemoryLimit
}

// containerMemory reads the container's memory limit from the cgroup
// files; 0 when there is none ("max", a v1 "unlimited" value, or no file).
func containerMemory(files []string) int64 {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0
		}
		return n
	}
	return 0
}

// setMemoryLimit applies the soft memory limit of configured
// (RECONCILE_MEMORY_LIMIT as parsed) and returns it; 0 sets none. A
// GOMEMLIMIT in the environment wins when the variable is unset. The
// limit makes the garbage collector run more often near it instead of
// letting the heap double past the live data; it never fails an
// allocation.
func setMemoryLimit(configured int64) int64 {
	if configured < 0 && os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	n := memoryLimit(configured, containerMemory(cgroupLimitFiles))
	if n > 0 {
		debug.SetMemoryLimit(n)
	}
	return n
}

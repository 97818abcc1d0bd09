// Package buildinfo tells which build is running, for /version and the
// start line of every binary.
package buildinfo

import (
	"log/slog"
	"runtime/debug"
)

// Version and Revision are set at link time (make build, make run):
//
//	-ldflags "-X .../shared/buildinfo.Version=v1.2.3 -X .../shared/buildinfo.Revision=<sha>"
//
// Without them the Go toolchain's VCS stamp is used (go build, ko, and go
// run -buildvcs=true in a checkout).
var (
	Version  = "dev"
	Revision = ""
)

// readBuildInfo is debug.ReadBuildInfo, replaceable in tests.
var readBuildInfo = debug.ReadBuildInfo

// Commit is the VCS revision the binary was built from: the linked
// Revision, else the toolchain's vcs.revision with "-dirty" appended when
// the tree had local changes, else "unknown".
func Commit() string {
	if Revision != "" {
		return Revision
	}
	bi, ok := readBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// Attrs are the build's version and commit as log attributes, for the
// one start line every binary logs.
func Attrs() []any {
	return []any{slog.String("version", Version), slog.String("commit", Commit())}
}

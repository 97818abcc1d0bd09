// Package buildinfo tells which build is running, for /version and logs.
package buildinfo

import "runtime/debug"

// Version is set at link time: -ldflags "-X .../shared/buildinfo.Version=v1.2.3".
var Version = "dev"

// Commit is the VCS revision the binary was built from, or "unknown".
func Commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

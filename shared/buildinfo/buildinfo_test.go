package buildinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestCommit(t *testing.T) {
	stamped := func(settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Settings: settings}, true }
	}
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "0123abc"}
	for _, tc := range []struct {
		name, linked string
		read         func() (*debug.BuildInfo, bool)
		want         string
	}{
		{"ldflags win", "feedbeef", stamped(rev), "feedbeef"},
		{"vcs stamp", "", stamped(rev, debug.BuildSetting{Key: "vcs.modified", Value: "false"}), "0123abc"},
		{"dirty tree", "", stamped(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"}), "0123abc-dirty"},
		{"no stamp", "", stamped(), "unknown"},
		{"no build info", "", func() (*debug.BuildInfo, bool) { return nil, false }, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(r string, f func() (*debug.BuildInfo, bool)) { Revision, readBuildInfo = r, f }(Revision, readBuildInfo)
			Revision, readBuildInfo = tc.linked, tc.read
			if got := Commit(); got != tc.want {
				t.Fatalf("Commit() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBuiltBinary builds a main around this package's source with the real
// toolchain, in a fresh git repository (a git worktree's .git is a file,
// which the toolchain does not stamp), and checks what the binary reports:
// the linked values when ldflags carry them (make build, make run), else
// the toolchain's VCS stamp (go build, ko, go run -buildvcs=true).
func TestBuiltBinary(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	src, err := os.ReadFile("buildinfo.go")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":                 "module example.com/bi\n\ngo 1.22\n",
		"buildinfo/buildinfo.go": string(src),
		"main.go":                "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/bi/buildinfo\"\n)\n\nfunc main() { fmt.Print(buildinfo.Version, \" \", buildinfo.Commit()) }\n",
	}
	for name, body := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git := []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
	run(git, "git", "init", "-q")
	run(git, "git", "add", ".")
	run(git, "git", "commit", "-qm", "x")
	head := run(nil, "git", "rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "bin") // outside the tree, which it would dirty
	build := func(flags ...string) string {
		run([]string{"GOFLAGS=-buildvcs=true"}, "go", append([]string{"build", "-o", bin}, append(flags, ".")...)...)
		return run(nil, bin)
	}
	const p = "example.com/bi/buildinfo"
	if got, want := build("-ldflags", "-X "+p+".Version=v9.9.9 -X "+p+".Revision=abc123"), "v9.9.9 abc123"; got != want {
		t.Errorf("with ldflags: %q, want %q", got, want)
	}
	if got, want := build(), "dev "+head; got != want {
		t.Errorf("VCS stamp: %q, want %q", got, want)
	}
	os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("local change"), 0o644)
	run(git, "git", "add", "extra.txt")
	if got, want := build(), "dev "+head+"-dirty"; got != want {
		t.Errorf("VCS stamp of a changed tree: %q, want %q", got, want)
	}
}

// Package examples holds what the README's walkthroughs use (a registry
// file, a sample claim CRD and claims) and the tests that run those
// walkthroughs as written.
package examples

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
)

// The README marks each shell block this test runs with a comment on the
// line before its fence: "<!-- readme-test -->" runs the block as it is,
// "<!-- readme-test: after make run -->" starts `make run` first (the
// block's prose says to have it running).
const (
	marker         = "<!-- readme-test"
	markerAfterRun = "<!-- readme-test: after make run -->"
	readmePort     = "localhost:8095" // what the README's commands call
)

// command is one shell command of a block, possibly spanning lines, and
// the answer the README shows for it ("# -> ..."; "" when none).
type command struct {
	line       int // 1-based line in README.md where it starts
	text, want string
}

// block is one marked shell block.
type block struct {
	line     int
	afterRun bool
	commands []command
}

// readmeBlocks returns the marked shell blocks of the README text.
func readmeBlocks(readme string) ([]block, error) {
	lines := strings.Split(readme, "\n")
	var out []block
	for i := 0; i < len(lines); i++ {
		m := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(m, marker) {
			continue
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```sh" {
			return nil, fmt.Errorf("README.md:%d: %s is not followed by a ```sh fence", i+1, m)
		}
		b := block{line: i + 2, afterRun: m == markerAfterRun}
		var cur *command
		for i += 2; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			l := lines[i]
			if cur != nil { // continuation of an open quote or a trailing backslash
				cur.text += "\n" + l
			} else if t := strings.TrimSpace(l); t == "" {
				continue
			} else if want, ok := strings.CutPrefix(t, "# -> "); ok {
				if len(b.commands) == 0 {
					return nil, fmt.Errorf("README.md:%d: an answer before any command", i+1)
				}
				b.commands[len(b.commands)-1].want = want
				continue
			} else if strings.HasPrefix(t, "#") {
				continue
			} else {
				cur = &command{line: i + 1, text: l}
			}
			if strings.Count(cur.text, "'")%2 == 1 || strings.HasSuffix(cur.text, "\\") {
				continue
			}
			// An answer on the command's own line: cmd   # -> answer
			if cmd, want, ok := strings.Cut(cur.text, "   # -> "); ok {
				cur.text, cur.want = cmd, strings.TrimSpace(want)
			}
			b.commands = append(b.commands, *cur)
			cur = nil
		}
		if cur != nil {
			return nil, fmt.Errorf("README.md:%d: unterminated command", cur.line)
		}
		out = append(out, b)
	}
	return out, nil
}

// matches reports whether got is the README's answer want, where "..."
// stands for any text.
func matches(want, got string) bool {
	re := strings.ReplaceAll(regexp.QuoteMeta(want), regexp.QuoteMeta("..."), ".*")
	return regexp.MustCompile(`^(?s)` + re + `$`).MatchString(strings.TrimSpace(got))
}

func TestReadmeBlocksParse(t *testing.T) {
	const md = "x\n<!-- readme-test: after make run -->\n```sh\n# note\ncurl -s -d '{\n  \"a\": 1\n}' \\\n  -H x\n# -> {\"ok\":true,...}\n\nrun it   # -> done\n```\n"
	got, err := readmeBlocks(md)
	if err != nil {
		t.Fatal(err)
	}
	want := []block{{line: 3, afterRun: true, commands: []command{
		{line: 5, text: "curl -s -d '{\n  \"a\": 1\n}' \\\n  -H x", want: `{"ok":true,...}`},
		{line: 11, text: "run it", want: "done"},
	}}}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("blocks =\n%+v\nwant\n%+v", got, want)
	}
	if !matches(`{"a":1,...,"z":2}`, `{"a":1,"b":3,"z":2}`+"\n") || matches(`{"a":1,...}`, `{"a":2}`) {
		t.Fatal("matches is wrong")
	}
}

// TestReadmeWalkthrough runs the README's marked blocks literally against
// the binary `make run` runs: `make run` becomes that binary started in
// the background (on a free port instead of 8095, so it never clashes
// with a collector already running), each other command runs in bash in a
// scratch folder that sees the repository's examples/, and its output is
// compared with the README's "# -> ..." answer.
func TestReadmeWalkthrough(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 2 {
		t.Fatalf("README.md has %d marked blocks, want the quick start and the local PR walkthrough", len(blocks))
	}
	bin := filepath.Join(t.TempDir(), "collector")
	build := exec.Command("go", "build", "-o", bin, "../functions/collector/cmd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// --help answers before anything starts, with the variables and defaults.
	if out, err := exec.Command(bin, "--help").Output(); err != nil || !regexp.MustCompile(`(?m)^  COLLECTOR_PORT +8095$`).Match(out) {
		t.Fatalf("collector --help: %v\n%s", err, out)
	}
	examples, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		t.Run(fmt.Sprintf("README.md:%d", b.line), func(t *testing.T) {
			w := walk{t: t, bin: bin, dir: t.TempDir()}
			if err := os.Symlink(examples, filepath.Join(w.dir, "examples")); err != nil {
				t.Fatal(err)
			}
			defer w.stop()
			if b.afterRun {
				w.start(command{text: "make run"})
			}
			for _, c := range b.commands {
				w.run(c)
			}
		})
	}
}

// walk is one block's run: its scratch folder and the collector it
// started, if any.
type walk struct {
	t      *testing.T
	bin    string
	dir    string
	port   string
	server *exec.Cmd
	done   chan error // the server's exit
	log    servertest.Buffer
}

// env is a clean environment: nothing of the caller's collector settings.
func (w *walk) env() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.dir, "COLLECTOR_PORT=" + w.port, "LOG_FORMAT=text"}
}

// localize points the README's port at this walk's collector.
func (w *walk) localize(text string) string {
	return strings.ReplaceAll(text, readmePort, "localhost:"+w.port)
}

// run executes c, or starts the collector when c is a `make run` line.
func (w *walk) run(c command) {
	w.t.Helper()
	if strings.Contains(c.text, "make run") {
		w.start(c)
		return
	}
	cmd := exec.Command("bash", "-c", w.localize(c.text))
	cmd.Dir, cmd.Env = w.dir, w.env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	// diff answers 1 when the files differ, which is what it shows here.
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1 && strings.HasPrefix(strings.TrimSpace(c.text), "cat ")) {
		w.t.Fatalf("README.md:%d: %s\nfailed: %v\nstdout: %s\nstderr: %s\ncollector log:\n%s", c.line, c.text, err, out, &stderr, w.log.String())
	}
	if c.want != "" && !matches(c.want, string(out)) {
		w.t.Errorf("README.md:%d: %s\nanswered %s\nREADME shows %s", c.line, c.text, bytes.TrimSpace(out), c.want)
	}
}

// start replaces any running collector with the command line c, `make run`
// swapped for the built binary, and waits until it answers /healthz.
func (w *walk) start(c command) {
	w.t.Helper()
	w.stop()
	w.port = strconv.Itoa(servertest.FreePort(w.t))
	w.log.Reset()
	line := strings.Replace(c.text, "make run", strconv.Quote(w.bin), 1)
	w.server = exec.Command("bash", "-c", line)
	w.server.Dir, w.server.Env = w.dir, w.env()
	w.server.Stdout, w.server.Stderr = &w.log, &w.log
	w.server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := w.server.Start(); err != nil {
		w.t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- w.server.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost:"+w.port+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				w.done = exited
				return
			}
		}
		select {
		case err := <-exited:
			w.t.Fatalf("README.md:%d: %s exited: %v\n%s", c.line, c.text, err, w.log.String())
		case <-ctx.Done():
			w.t.Fatalf("README.md:%d: %s: no /healthz within 20s\n%s", c.line, c.text, w.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop ends the collector's process group (bash and the binary) and
// waits for it.
func (w *walk) stop() {
	if w.server == nil || w.server.Process == nil {
		return
	}
	syscall.Kill(-w.server.Process.Pid, syscall.SIGTERM)
	if w.done != nil {
		select {
		case <-w.done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-w.server.Process.Pid, syscall.SIGKILL)
			<-w.done
		}
	}
	w.server, w.done = nil, nil
}

package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildAll compiles the main packages (paths relative to this package)
// into dir in parallel, without the race detector: they are the deployed
// programs, and the test process is what -race watches.
func buildAll(dir string, pkgs ...string) (map[string]string, error) {
	out := make(map[string]string, len(pkgs))
	errs := make([]error, len(pkgs))
	var wg sync.WaitGroup
	for i, pkg := range pkgs {
		bin := filepath.Join(dir, fmt.Sprintf("bin%d", i))
		out[pkg] = bin
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// proc is a program served on a fixed loopback port, restartable on the
// same port (clients keep their URL across a restart, as behind a Service).
// Each incarnation's stdout and stderr go to their own log stream.
type proc struct {
	t    *testing.T
	name string
	bin  string
	env  []string
	port int
	logs *logs

	mu          sync.Mutex
	cmd         *exec.Cmd
	exited      chan struct{}
	incarnation int
}

func newProc(t *testing.T, name, bin string, port int, l *logs, env ...string) *proc {
	p := &proc{t: t, name: name, bin: bin, port: port, logs: l,
		env: append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PORT=" + strconv.Itoa(port)}, env...)}
	t.Cleanup(p.kill)
	return p
}

// URL is the program's base URL.
func (p *proc) URL() string { return "http://" + p.addr() }

func (p *proc) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// start runs a new incarnation and waits until it accepts connections.
func (p *proc) start() {
	p.t.Helper()
	p.mu.Lock()
	p.incarnation++
	cmd := exec.Command(p.bin)
	cmd.Env = p.env
	out := p.logs.stream(fmt.Sprintf("%s#%d", p.name, p.incarnation))
	cmd.Stdout, cmd.Stderr = out, out
	// A crashed test run must not leave servers behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			p.t.Fatalf("%s exited before listening on %s:\n%s", p.name, p.addr(), out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not listening on %s after 30s:\n%s", p.name, p.addr(), out.String())
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// kill ends the current incarnation at once, as a crash or an evicted
// pod would, and waits until it is gone.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

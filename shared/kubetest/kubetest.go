// Package kubetest runs a real kube-apiserver backed by a real etcd for
// tests: both bind to 127.0.0.1 on free ports, keep their data in a
// temporary directory and stop with the test (or the test binary).
//
// The binaries come from hack/kube-apiserver.sh (`make test-deps`), which
// builds kube-apiserver into .cache/bin and installs Debian's etcd-server.
// KUBE_APISERVER and ETCD override where they are looked up.
//
// Starting an API server costs a few seconds of CPU, so a package shares
// one: call Main from TestMain and Shared from the tests.
package kubetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// BuildCommand installs the binaries; error messages quote it.
const BuildCommand = "make test-deps (or: bash hack/kube-apiserver.sh)"

// AdminToken is the bearer token of the user "admin" in group
// system:masters, which RBAC lets do anything.
const AdminToken = "kubetest-admin-token"

// User is an extra token-authenticated user. RBAC grants it nothing until
// a test binds roles to Name or one of Groups.
type User struct {
	Name   string
	Token  string
	Groups []string
}

// Options configure a cluster. Users cannot be added after start: the
// token file is read once.
type Options struct {
	Users []User
	// StartTimeout bounds etcd plus API server start, default 90s (a
	// cold start on a busy 2-core machine takes 10-20 s).
	StartTimeout time.Duration
}

// Cluster is a running etcd plus kube-apiserver.
type Cluster struct {
	// URL is the API server's https address.
	URL string
	// CAData is the PEM CA that signed the serving certificate.
	CAData []byte
	// Dir holds certificates, token file, etcd data and both logs.
	Dir string

	procs []*process
	stop  sync.Once
	owned bool // Dir was created by the cluster and is removed with it
}

// Start runs a cluster for t and stops it when t ends. A missing binary
// fails the test with the command that builds it.
func Start(t testing.TB, opts ...Options) *Cluster {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// New starts a cluster that lives until Stop; for TestMain, where there
// is no testing.TB. Prefer Start or Shared.
func New(o Options) (*Cluster, error) {
	apiserver, etcd, err := binaries()
	if err != nil {
		return nil, err
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 90 * time.Second
	}
	base := tempBase()
	sweep(base)
	dir, err := os.MkdirTemp(base, "kubetest-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	c := &Cluster{Dir: dir, owned: true}
	ctx, cancel := context.WithTimeout(context.Background(), o.StartTimeout)
	defer cancel()
	if err := c.start(ctx, apiserver, etcd, o.Users); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// RESTConfig is a client config for the admin user. Client-side rate
// limiting is off: tests create thousands of objects.
func (c *Cluster) RESTConfig() *rest.Config { return c.RESTConfigFor(AdminToken) }

// RESTConfigFor is a client config authenticating with token.
func (c *Cluster) RESTConfigFor(token string) *rest.Config {
	return &rest.Config{
		Host:            c.URL,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CAData},
		QPS:             -1, // no client-side throttling
		Timeout:         30 * time.Second,
	}
}

// Kubeconfig writes a kubeconfig for token into Dir and returns its path,
// for code that reads KUBECONFIG.
func (c *Cluster) Kubeconfig(token string) (string, error) {
	ca := filepath.Join(c.Dir, "ca.crt")
	path := filepath.Join(c.Dir, fmt.Sprintf("kubeconfig-%d", time.Now().UnixNano()))
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubetest
  cluster: {server: %q, certificate-authority: %q}
users:
- name: u
  user: {token: %q}
contexts:
- name: kubetest
  context: {cluster: kubetest, user: u}
current-context: kubetest
`, c.URL, ca, token)
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// Stop ends both processes and removes Dir. Safe to call more than once.
func (c *Cluster) Stop() {
	c.stop.Do(func() {
		// API server first, so it does not log etcd errors on the way out.
		for i := len(c.procs) - 1; i >= 0; i-- {
			stopProcess(c.procs[i])
		}
		if c.owned {
			_ = os.RemoveAll(c.Dir)
		}
	})
}

// LogTail returns the last n bytes of the API server's log, for failure
// messages.
func (c *Cluster) LogTail(n int) string { return tail(filepath.Join(c.Dir, "kube-apiserver.log"), n) }

var (
	shared     *Cluster
	sharedErr  error
	sharedOnce sync.Once
	sharedOpts Options
)

// Main runs the package's tests with one shared cluster, started lazily by
// the first Shared call (a run that needs none pays nothing) and stopped
// after the last test:
//
//	func TestMain(m *testing.M) { kubetest.Main(m, kubetest.Options{Users: users}) }
func Main(m *testing.M, o Options) {
	sharedOpts = o
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// Shared returns the package's shared cluster, starting it on first use;
// it fails t when the cluster cannot start. Tests must not stop it, and
// should namespace what they create to stay independent.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New(sharedOpts) })
	if sharedErr != nil {
		t.Fatalf("kubetest: %v", sharedErr)
	}
	return shared
}

// binaries locates kube-apiserver and etcd or says how to install them.
func binaries() (apiserver, etcd string, err error) {
	apiserver = os.Getenv("KUBE_APISERVER")
	if apiserver == "" {
		root, rerr := repoRoot()
		if rerr != nil {
			return "", "", rerr
		}
		apiserver = filepath.Join(root, ".cache", "bin", "kube-apiserver")
	}
	var missing []string
	if _, serr := os.Stat(apiserver); serr != nil {
		missing = append(missing, "kube-apiserver ("+apiserver+")")
	}
	etcd = os.Getenv("ETCD")
	if etcd == "" {
		if etcd, err = exec.LookPath("etcd"); err != nil {
			etcd = "/usr/bin/etcd"
		}
	}
	if _, serr := os.Stat(etcd); serr != nil {
		missing = append(missing, "etcd ("+etcd+")")
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("missing %s; install with: %s", strings.Join(missing, " and "), BuildCommand)
	}
	return apiserver, etcd, nil
}

// repoRoot is the nearest directory above the working directory (a test
// runs in its package's) holding the main module's go.mod and .git or
// Makefile; hack/kube-apiserver has a go.mod of its own, so the first
// go.mod is not enough.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if exists(filepath.Join(d, "go.mod")) && exists(filepath.Join(d, "hack", "kube-apiserver.sh")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no repository root (go.mod + hack/kube-apiserver.sh) above %s; set KUBE_APISERVER", dir)
		}
	}
}

// exists reports whether p can be stat'ed.
func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// tempBase prefers a RAM disk: etcd fsyncs every write, and creating
// thousands of objects on a slow disk would dominate test time.
func tempBase() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "kubetest-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// ownerFile in a cluster's Dir holds the PID of the process that owns it.
const ownerFile = "owner.pid"

// sweep removes the directories of clusters whose owning process is gone:
// a test binary killed by a timeout never runs its cleanup, and on a RAM
// disk its etcd data would hold memory until reboot. Its servers died with
// it (Pdeathsig).
func sweep(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, "kubetest-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // not ours, or being created right now
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}

// waitReady polls url until it answers 200, ctx ends, or the process
// exits; the error carries the log tail.
func waitReady(ctx context.Context, client *http.Client, url, token string, proc *exec.Cmd, exited <-chan struct{}, log string) error {
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			body := make([]byte, 512)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body[:n])))
		} else {
			last = err.Error()
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before ready (%v); log tail:\n%s", filepath.Base(proc.Path), proc.ProcessState, tail(log, 4000))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s before the deadline (last answer: %s); log tail:\n%s", filepath.Base(proc.Path), url, last, tail(log, 4000))
		case <-time.After(100 * time.Millisecond): // poll interval
		}
	}
}

// tail returns the last n bytes of the file at path, or the read error.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// freePort asks the kernel for an unused loopback port. Another process
// could take it before the server binds; start retries on that.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tlsClient trusts only the cluster's CA.
func tlsClient(caPEM []byte) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

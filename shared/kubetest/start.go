package kubetest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// start runs etcd, then the API server, each retried on a port race.
func (c *Cluster) start(ctx context.Context, apiserver, etcd string, users []User) error {
	ca, err := writeCerts(c.Dir)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	c.CAData = ca
	if err := writeTokens(filepath.Join(c.Dir, "tokens.csv"), users); err != nil {
		return err
	}
	etcdURL, err := retryPorts(func() (string, error) { return c.startEtcd(ctx, etcd) })
	if err != nil {
		return err
	}
	_, err = retryPorts(func() (string, error) { return c.startAPIServer(ctx, apiserver, etcdURL) })
	return err
}

// writeTokens writes the static token file: the admin plus users, as
// token,user,uid,"group,group".
func writeTokens(path string, users []User) error {
	all := append([]User{{Name: "admin", Token: AdminToken, Groups: []string{"system:masters"}}}, users...)
	var b strings.Builder
	for _, u := range all {
		if u.Token == "" || u.Name == "" || strings.ContainsAny(u.Token+u.Name, ",\"\n") {
			return fmt.Errorf("user %q: name and token must be non-empty without commas or quotes", u.Name)
		}
		fmt.Fprintf(&b, "%s,%s,%s,%q\n", u.Token, u.Name, u.Name, strings.Join(u.Groups, ","))
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// startEtcd runs a single-member etcd on two free loopback ports with
// its data in Dir/etcd and returns its client URL once /health answers.
func (c *Cluster) startEtcd(ctx context.Context, bin string) (string, error) {
	client, peer, err := twoPorts()
	if err != nil {
		return "", err
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", client)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	data := filepath.Join(c.Dir, "etcd")
	_ = os.RemoveAll(data) // a previous attempt's member would clash
	proc, exited, err := c.spawn(bin, "etcd.log",
		"--name=kubetest",
		"--data-dir="+data,
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL,
		"--logger=zap",
		"--log-level=warn",
	)
	if err != nil {
		return "", err
	}
	if err := waitReady(ctx, http.DefaultClient, clientURL+"/health", "", proc.cmd, exited, filepath.Join(c.Dir, "etcd.log")); err != nil {
		c.drop(proc)
		return "", err
	}
	return clientURL, nil
}

// startAPIServer runs kube-apiserver against etcdURL on a free loopback
// port, sets c.URL and returns it once /readyz answers the admin.
func (c *Cluster) startAPIServer(ctx context.Context, bin, etcdURL string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	d := c.Dir
	proc, exited, err := c.spawn(bin, "kube-apiserver.log",
		"--etcd-servers="+etcdURL,
		"--etcd-prefix=/kubetest",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--tls-cert-file="+filepath.Join(d, "apiserver.crt"),
		"--tls-private-key-file="+filepath.Join(d, "apiserver.key"),
		"--cert-dir="+filepath.Join(d, "certs"),
		"--token-auth-file="+filepath.Join(d, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubetest.invalid",
		"--service-account-key-file="+filepath.Join(d, "sa.key"),
		"--service-account-signing-key-file="+filepath.Join(d, "sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		// 127.0.0.1 is no valid endpoint for the kubernetes Service;
		// nothing here needs that Service.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--v=1",
	)
	if err != nil {
		return "", err
	}
	c.URL = fmt.Sprintf("https://127.0.0.1:%d", port)
	if err := waitReady(ctx, tlsClient(c.CAData), c.URL+"/readyz", AdminToken, proc.cmd, exited, filepath.Join(d, "kube-apiserver.log")); err != nil {
		c.drop(proc)
		return "", err
	}
	return c.URL, nil
}

// process is a started child and a channel closed once it was reaped.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// spawn starts bin with its output in Dir/logName. The child gets SIGKILL
// if the test binary dies, so a crashed run leaves no servers behind.
func (c *Cluster) spawn(bin, logName string, args ...string) (*process, <-chan struct{}, error) {
	log, err := os.OpenFile(filepath.Join(c.Dir, logName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		log.Close()
		close(exited)
	}()
	p := &process{cmd: cmd, exited: exited}
	c.procs = append(c.procs, p)
	return p, exited, nil
}

// drop stops p and forgets it.
func (c *Cluster) drop(p *process) {
	stopProcess(p)
	for i, q := range c.procs {
		if q == p {
			c.procs = append(c.procs[:i], c.procs[i+1:]...)
			break
		}
	}
}

// stopProcess asks p to terminate and kills it after 10 s.
func stopProcess(p *process) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// retryPorts runs start up to three times while it fails because another
// process took a port between freePort and bind.
func retryPorts(start func() (string, error)) (string, error) {
	var err error
	for range 3 {
		var url string
		if url, err = start(); err == nil || !strings.Contains(err.Error(), "address already in use") {
			return url, err
		}
	}
	return "", err
}

// twoPorts returns two distinct free loopback ports.
func twoPorts() (int, int, error) {
	a, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	for {
		b, err := freePort()
		if err != nil || b != a {
			return a, b, err
		}
	}
}

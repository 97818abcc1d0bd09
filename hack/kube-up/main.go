// Command kube-up runs the tests' etcd + kube-apiserver (shared/kubetest)
// until interrupted and prints a kubeconfig for its admin, to try the agent
// by hand:
//
//	bash hack/kube-apiserver.sh   # once: build/install the binaries
//	go run ./hack/kube-up [-apply examples/claims] [-- command args...]
//	go run ./hack/kube-up -flip namespace/name
//
// -apply creates the manifests of a folder (CRDs first, then objects with
// their status). After "--" it runs the command with KUBECONFIG set and
// stops the cluster when the command ends (make run-agent). The
// kubeconfig is also written to -kubeconfig (default
// .local/kube-up/kubeconfig) while the cluster runs, where -flip, run
// from another terminal, finds it: -flip toggles a claim's Ready
// condition through the status subresource (make flip-claim).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
)

// main parses the flags and runs kube-up or the flip; exit code 1 on failure.
func main() {
	apply := flag.String("apply", "", "a folder of *.yaml manifests to create once the API server is up")
	kubeconfig := flag.String("kubeconfig", ".local/kube-up/kubeconfig", "where to write the admin kubeconfig while running (and where -flip reads it when KUBECONFIG is unset)")
	flip := flag.String("flip", "", "flip the Ready condition of the claim namespace/name in the running cluster, then exit")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *flip != "" {
		err = runFlip(ctx, *flip, *kubeconfig)
	} else {
		err = up(ctx, *apply, *kubeconfig, flag.Args())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-up:", err)
		stop()
		os.Exit(1)
	}
}

// up starts the cluster, applies dir, and waits for ctx or runs command.
func up(ctx context.Context, dir, kubeconfigOut string, command []string) error {
	c, err := kubetest.New(kubetest.Options{})
	if err != nil {
		return err
	}
	defer c.Stop()
	path, err := c.Kubeconfig(kubetest.AdminToken)
	if err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	if err := copyFile(path, kubeconfigOut); err != nil {
		return err
	}
	defer os.Remove(kubeconfigOut)
	if dir != "" {
		k, err := newKube(c.RESTConfig())
		if err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, time.Minute)
		done, err := k.apply(actx, dir)
		cancel()
		for _, d := range done {
			fmt.Println("created", d)
		}
		if err != nil {
			return fmt.Errorf("apply %s: %w", dir, err)
		}
	}
	fmt.Printf("kube-apiserver at %s; logs in %s\nexport KUBECONFIG=%s\n", c.URL, c.Dir, path)
	if len(command) == 0 {
		fmt.Println("Ctrl-C stops it.")
		<-ctx.Done()
		return nil
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		<-ctx.Done() // Ctrl-C reaches the command too; a SIGTERM may not
		cmd.Process.Signal(syscall.SIGTERM)
	}()
	if err := cmd.Wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("%s: %w", command[0], err)
	}
	return nil
}

// runFlip flips one claim in the cluster KUBECONFIG (or the file kube-up
// wrote) points at.
func runFlip(ctx context.Context, ref, kubeconfig string) error {
	if env := os.Getenv("KUBECONFIG"); env != "" {
		kubeconfig = env
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s (is kube-up running?): %w", kubeconfig, err)
	}
	k, err := newKube(rc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msg, err := k.flip(ctx, ref, time.Now())
	if err != nil {
		return err
	}
	fmt.Println(msg)
	return nil
}

// copyFile writes src's content to dst, creating dst's folder.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}

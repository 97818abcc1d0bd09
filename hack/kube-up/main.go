// Command kube-up runs the tests' etcd + kube-apiserver (shared/kubetest)
// until interrupted and prints a kubeconfig for its admin, to try the agent
// by hand:
//
//	bash hack/kube-apiserver.sh   # once: build/install the binaries
//	go run ./hack/kube-up
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
)

// main starts the cluster, prints how to reach it and stops it on
// SIGINT/SIGTERM.
func main() {
	c, err := kubetest.New(kubetest.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-up:", err)
		os.Exit(1)
	}
	defer c.Stop()
	path, err := c.Kubeconfig(kubetest.AdminToken)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-up: write kubeconfig:", err)
		return
	}
	fmt.Printf("kube-apiserver at %s; logs in %s\nexport KUBECONFIG=%s\nCtrl-C stops it.\n", c.URL, c.Dir, path)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

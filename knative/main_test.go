package knative

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/stuttgart-things/machinery-status-collector/shared/kubetest"
)

func TestMain(m *testing.M) {
	// A child started by checkConfig: run one configuration check, exit.
	if main := os.Getenv(configCheckVar); main != "" {
		os.Exit(runConfigCheck(main))
	}
	// client-go reports the refusals the RBAC tests provoke through klog
	// on stderr; the agent's own log (kept per test, shown on failure)
	// carries the same errors.
	klog.SetLogger(logr.Discard())
	kubetest.Main(m, kubetest.Options{Users: rbacUsers()})
}

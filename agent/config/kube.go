package config

import (
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// RESTConfig is the in-cluster config when running in a pod, else the
// kubeconfig at path (KUBECONFIG), else ~/.kube/config. Its errors name
// those two ways in, not client-go's KUBERNETES_MASTER hint.
func RESTConfig(path string) (*rest.Config, error) {
	if rc, err := rest.InClusterConfig(); err == nil {
		return rc, nil
	} else if !errors.Is(err, rest.ErrNotInCluster) {
		return nil, fmt.Errorf("in-cluster config: %w", err)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	switch {
	case clientcmd.IsEmptyConfig(err):
		return nil, errors.New("no Kubernetes API to watch: not in a pod (no in-cluster config) and no kubeconfig; set KUBECONFIG to a kubeconfig file (default ~/.kube/config)")
	case err != nil && path != "":
		return nil, fmt.Errorf("KUBECONFIG %s (not in a pod, so no in-cluster config): %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("kubeconfig ~/.kube/config (not in a pod, so no in-cluster config; KUBECONFIG unset): %w", err)
	}
	return rc, nil
}

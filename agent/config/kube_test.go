package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Outside a pod and without a kubeconfig the error names KUBECONFIG and
// the in-cluster config, never client-go's KUBERNETES_MASTER.
func TestRESTConfigErrors(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "") // not in a pod
	t.Setenv("KUBERNETES_MASTER", "")
	t.Setenv("KUBECONFIG", "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	missing := filepath.Join(home, "nope.yaml")
	valid := filepath.Join(home, "kubeconfig")
	if err := os.WriteFile(valid, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
	}{
		{"", "no Kubernetes API to watch: not in a pod (no in-cluster config) and no kubeconfig; set KUBECONFIG to a kubeconfig file (default ~/.kube/config)"},
		{missing, "KUBECONFIG " + missing + " (not in a pod, so no in-cluster config): "},
	} {
		_, err := RESTConfig(tc.path)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "KUBERNETES_MASTER") {
			t.Errorf("RESTConfig(%q) = %v, want %q...", tc.path, err, tc.want)
		}
	}
	rc, err := RESTConfig(valid)
	if err != nil || rc.Host != "https://127.0.0.1:6443" {
		t.Fatalf("RESTConfig(valid) = %v, %v", rc, err)
	}
}

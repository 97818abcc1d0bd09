package kubetest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

var nsGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

func TestMain(m *testing.M) {
	Main(m, Options{Users: []User{{Name: "alice", Token: "alice-token", Groups: []string{"team"}}}})
}

func TestAdminAndUserTokens(t *testing.T) {
	c := Shared(t)
	ctx := context.Background()

	admin := dynamic.NewForConfigOrDie(c.RESTConfig())
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "kubetest-smoke"}}}
	if _, err := admin.Resource(nsGVR).Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("admin create namespace: %v", err)
	}

	// RBAC is on: a user without bindings is authenticated but forbidden.
	alice := dynamic.NewForConfigOrDie(c.RESTConfigFor("alice-token"))
	if _, err := alice.Resource(nsGVR).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("alice list namespaces: want Forbidden, got %v", err)
	}
	// An unknown token is not authenticated at all.
	nobody := dynamic.NewForConfigOrDie(c.RESTConfigFor("wrong"))
	if _, err := nobody.Resource(nsGVR).List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Fatalf("unknown token: want Unauthorized, got %v", err)
	}
	// Discovery is open to every authenticated user (system:discovery).
	dc := discovery.NewDiscoveryClientForConfigOrDie(c.RESTConfigFor("alice-token"))
	v, err := dc.ServerVersion()
	if err != nil {
		t.Fatalf("alice discovery: %v", err)
	}
	t.Logf("kube-apiserver %s at %s", v.GitVersion, c.URL)
}

func TestKubeconfig(t *testing.T) {
	c := Shared(t)
	path, err := c.Kubeconfig(AdminToken)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := discovery.NewDiscoveryClientForConfigOrDie(rc).ServerVersion(); err != nil {
		t.Fatalf("kubeconfig client: %v", err)
	}
}

func TestMissingBinaryNamesTheBuildCommand(t *testing.T) {
	t.Setenv("KUBE_APISERVER", "/nonexistent/kube-apiserver")
	_, err := New(Options{})
	if err == nil {
		t.Fatal("want error")
	}
	if msg := err.Error(); !strings.Contains(msg, "make test-deps") || !strings.Contains(msg, "/nonexistent/kube-apiserver") {
		t.Fatalf("error %q does not say how to build", msg)
	}
}

func TestStartStopOwnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second API server")
	}
	c := Start(t)
	dir := c.Dir
	c.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("dir %s left behind: %v", dir, err)
	}
}

func TestSweepRemovesOrphans(t *testing.T) {
	base := t.TempDir()
	orphan := filepath.Join(base, "kubetest-orphan")
	alive := filepath.Join(base, "kubetest-alive")
	foreign := filepath.Join(base, "kubetest-foreign")
	for _, d := range []string{orphan, alive, foreign} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// A PID that cannot exist (above pid_max) stands for a dead owner.
	_ = os.WriteFile(filepath.Join(orphan, ownerFile), []byte("2147483647"), 0o600)
	_ = os.WriteFile(filepath.Join(alive, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600)
	sweep(base)
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Error("orphan kept")
	}
	for _, d := range []string{alive, foreign} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed", filepath.Base(d))
		}
	}
}

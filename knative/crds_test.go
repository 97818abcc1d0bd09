package knative

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// crdSource is a module whose zip carries Knative's CRDs. The module proxy
// serves these exact versions (eventing lists none, but v0.47.0 is there);
// they are never added to go.mod.
type crdSource struct {
	Module, Version, Dir string
}

var crdSources = []crdSource{
	{"knative.dev/serving", "v0.51.0", "config/core/300-resources"},
	{"knative.dev/eventing", "v0.47.0", "config/core/resources"},
}

// knativeCRDs returns every CustomResourceDefinition of crdSources. They
// are cached under .cache/knative-crds/ (gitignored); a fresh machine
// fetches them once with `go mod download`.
func knativeCRDs(root string) ([]*unstructured.Unstructured, error) {
	var crds []*unstructured.Unstructured
	for _, src := range crdSources {
		dir, err := cachedCRDDir(root, src)
		if err != nil {
			return nil, fmt.Errorf("Knative CRDs from %s@%s: %w", src.Module, src.Version, err)
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("no CRD files in %s (%v)", dir, err)
		}
		for _, f := range files {
			docs, err := readObjects(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for _, d := range docs {
				if d.GetKind() == "CustomResourceDefinition" {
					crds = append(crds, d)
				}
			}
		}
	}
	return crds, nil
}

// cachedCRDDir is .cache/knative-crds/<module>@<version>, filled on first
// use from the module cache.
func cachedCRDDir(root string, src crdSource) (string, error) {
	dir := filepath.Join(root, ".cache", "knative-crds", strings.ReplaceAll(src.Module, "/", "_")+"@"+src.Version)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	modDir, err := downloadModule(src.Module, src.Version)
	if err != nil {
		return "", err
	}
	files, err := filepath.Glob(filepath.Join(modDir, src.Dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("no YAML under %s in the module (%v)", src.Dir, err)
	}
	// Fill a temporary directory, then rename it into place, so a
	// concurrent or interrupted run never sees half a cache.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(tmp, filepath.Base(f)), b, 0o644); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return dir, nil // another run won the race
		}
		return "", err
	}
	return dir, nil
}

// downloadModule runs `go mod download -json mod@version` outside any
// module (so go.mod is never touched) and returns the module's directory
// in the module cache.
func downloadModule(mod, version string) (string, error) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			return "", fmt.Errorf("no go command to download %s: %w", mod, err)
		}
	}
	work, err := os.MkdirTemp("", "knative-crds-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	cmd := exec.Command(goBin, "mod", "download", "-json", mod+"@"+version)
	cmd.Dir = work
	// GOFLAGS=-mod=mod: a -mod=vendor or readonly from the caller's
	// environment must not apply to this throwaway download.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("go mod download: %s", info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v: %s", mod, version, err, stderr.String())
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s printed no Dir: %s", mod, version, out)
	}
	return info.Dir, nil
}

// readObjects decodes every non-empty YAML document of a file.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if len(obj) > 0 {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

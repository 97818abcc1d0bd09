package knative

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	agentconfig "github.com/stuttgart-things/machinery-status-collector/agent/config"
	"github.com/stuttgart-things/machinery-status-collector/functions/ingest"
	"github.com/stuttgart-things/machinery-status-collector/functions/reconcile"
)

// container is one container of a workload, with the pod spec around it.
type container struct {
	workload string // objectID of the workload
	spec     map[string]any
	pod      map[string]any
}

func (c container) name() string { s, _ := c.spec["name"].(string); return s }

// podSpecPath is where each workload kind keeps its pod spec.
var podSpecPath = map[string][]any{
	"apps/v1 Deployment":             {"spec", "template", "spec"},
	"apps/v1 StatefulSet":            {"spec", "template", "spec"},
	"batch/v1 CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
	"serving.knative.dev/v1 Service": {"spec", "template", "spec"},
}

// containers returns the containers and init containers of a workload;
// nil for other objects.
func containers(o *unstructured.Unstructured) []container {
	path, ok := podSpecPath[o.GetAPIVersion()+" "+o.GetKind()]
	if !ok {
		return nil
	}
	v, _ := lookup(o.Object, path...)
	pod, _ := v.(map[string]any)
	var out []container
	for _, field := range []string{"initContainers", "containers"} {
		list, _ := pod[field].([]any)
		for _, c := range list {
			if m, ok := c.(map[string]any); ok {
				out = append(out, container{workload: objectID(o), spec: m, pod: pod})
			}
		}
	}
	return out
}

// koMain is the import path a container's ko:// image builds, or "".
func (c container) koMain() string {
	img, _ := c.spec["image"].(string)
	if path, ok := strings.CutPrefix(img, koPrefix); ok {
		return path
	}
	return ""
}

// --- What the code reads -------------------------------------------------

// envReaders are the functions through which this module reads its
// environment: shared/config's Env methods, the agent config parser's
// helpers, the getenv parameters and os.Getenv/LookupEnv. A string literal
// that looks like a variable name, passed to one of them, is a read.
var envReaders = map[string]bool{
	"Get": true, "String": true, "Alias": true, "Int": true, "Duration": true, "Bool": true, "File": true, "Required": true,
	"Getenv": true, "LookupEnv": true, "getenv": true,
	"str": true, "url": true, "intIn": true, "duration": true, "level": true, "parseID": true,
}

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*[A-Z0-9]$`)

var (
	pkgReadsMu sync.Mutex
	pkgReads   = map[string]pkgInfo{} // by import path
)

type pkgInfo struct {
	reads   []string
	imports []string // of this module
}

// envReads returns every variable the program main reads: the reads in
// its package and in every package of this module it imports, directly or
// not, as parsed from the Go source (tests excluded).
func envReads(t testing.TB, root, main string) map[string]bool {
	t.Helper()
	reads := map[string]bool{}
	seen := map[string]bool{}
	queue := []string{main}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if seen[pkg] {
			continue
		}
		seen[pkg] = true
		info, err := parsePackage(root, pkg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range info.reads {
			reads[r] = true
		}
		queue = append(queue, info.imports...)
	}
	return reads
}

func parsePackage(root, pkg string) (pkgInfo, error) {
	pkgReadsMu.Lock()
	defer pkgReadsMu.Unlock()
	if info, ok := pkgReads[pkg]; ok {
		return info, nil
	}
	dir := filepath.Join(root, strings.TrimPrefix(pkg, modulePath))
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var info pkgInfo
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			return info, err
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == modulePath || strings.HasPrefix(p, modulePath+"/") {
				info.imports = append(info.imports, p)
			}
		}
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !envReaders[calleeName(call.Fun)] {
				return true
			}
			for _, arg := range call.Args {
				if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && envName.MatchString(s) {
						info.reads = append(info.reads, s)
					}
				}
			}
			return true
		})
	}
	if len(files) == 0 {
		return info, fmt.Errorf("package %s: no Go files in %s", pkg, dir)
	}
	pkgReads[pkg] = info
	return info, nil
}

func calleeName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// --- What the manifests set ----------------------------------------------

// secretValues maps Secret name -> key -> value.
type secretValues map[string]map[string]string

// secretTemplates reads the shipped Secret templates.
func secretTemplates(t testing.TB) secretValues {
	t.Helper()
	out := secretValues{}
	for _, o := range render(t, secretsDir) {
		vals := map[string]string{}
		data, _, _ := unstructured.NestedStringMap(o.Object, "data")
		for k, v := range data {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatalf("Secret %s key %s: %v", o.GetName(), k, err)
			}
			vals[k] = string(b)
		}
		sd, _, _ := unstructured.NestedStringMap(o.Object, "stringData")
		for k, v := range sd {
			vals[k] = v
		}
		out[o.GetName()] = vals
	}
	return out
}

// filledSecrets is what an operator puts into the templates: values of the
// right shape (ingest tokens are cluster=token, at least 16 characters).
var filledSecrets = secretValues{
	"github-token":    {"token": "github_pat_0123456789abcdefghij"},
	"ingest-tokens":   {"tokens": "hub=0123456789abcdef0123456789abcdef\n"},
	"collector-token": {"token": "0123456789abcdef0123456789abcdef"},
	"redis-password":  {"password": "0123456789abcdef0123456789abcdef"},
}

// containerEnv resolves the environment a container starts with: literal
// values, envFrom ConfigMaps and Secrets, secretKeyRef and configMapKeyRef.
// Secret volumes are written under dir and values pointing into their
// mounts are rewritten to there, so file-valued variables can be read. A
// reference to a ConfigMap, Secret or key that does not exist is an error.
func containerEnv(objs []*unstructured.Unstructured, secrets secretValues, c container, dir string) (map[string]string, error) {
	configMaps := map[string]map[string]string{}
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			data, _, _ := unstructured.NestedStringMap(o.Object, "data")
			configMaps[o.GetName()] = data
		}
	}
	// Where envFrom (…Ref) and valueFrom (…KeyRef) find their values.
	sources := []struct {
		ref, keyRef, kind string
		values            map[string]map[string]string
	}{
		{"configMapRef", "configMapKeyRef", "ConfigMap", configMaps},
		{"secretRef", "secretKeyRef", "Secret", secrets},
	}
	env := map[string]string{}
	var errs []error
	envFrom, _ := c.spec["envFrom"].([]any)
	for _, e := range envFrom {
		m := e.(map[string]any)
		if _, ok := m["prefix"]; ok {
			errs = append(errs, errors.New("envFrom prefix is not supported by this check"))
		}
		for _, src := range sources {
			if n, ok := lookup(m, src.ref, "name"); ok {
				data, ok := src.values[n.(string)]
				if !ok {
					errs = append(errs, fmt.Errorf("envFrom %s %q does not exist", src.kind, n))
				}
				maps.Copy(env, data)
			}
		}
	}
	vars, _ := c.spec["env"].([]any)
	for _, e := range vars {
		m := e.(map[string]any)
		name := m["name"].(string)
		if v, ok := m["value"].(string); ok {
			env[name] = v
			continue
		}
		env[name] = ""
		if _, ok := m["valueFrom"]; !ok {
			continue
		}
		found := false
		for _, src := range sources {
			n, ok := lookup(m, "valueFrom", src.keyRef, "name")
			if !ok {
				continue
			}
			found = true
			k, _ := lookup(m, "valueFrom", src.keyRef, "key")
			v, ok := src.values[n.(string)][k.(string)]
			if !ok {
				errs = append(errs, fmt.Errorf("env %s: %s %q has no key %q", name, src.kind, n, k))
			}
			env[name] = v
		}
		if !found {
			errs = append(errs, fmt.Errorf("env %s: unsupported valueFrom %v", name, m["valueFrom"]))
		}
	}

	// Materialise mounted Secrets and rewrite paths into them.
	volumes := map[string]map[string]any{}
	vols, _ := c.pod["volumes"].([]any)
	for _, v := range vols {
		m := v.(map[string]any)
		volumes[m["name"].(string)] = m
	}
	mounts, _ := c.spec["volumeMounts"].([]any)
	for _, mt := range mounts {
		m := mt.(map[string]any)
		vol, ok := volumes[m["name"].(string)]
		if !ok {
			errs = append(errs, fmt.Errorf("volumeMount %v has no volume", m["name"]))
			continue
		}
		secretName, ok := lookup(vol, "secret", "secretName")
		if !ok {
			continue
		}
		data, ok := secrets[secretName.(string)]
		if !ok {
			errs = append(errs, fmt.Errorf("volume %v: Secret %q does not exist", m["name"], secretName))
			continue
		}
		local := filepath.Join(dir, m["name"].(string))
		if err := os.MkdirAll(local, 0o700); err != nil {
			return nil, err
		}
		for k, v := range data {
			if err := os.WriteFile(filepath.Join(local, k), []byte(v), 0o600); err != nil {
				return nil, err
			}
		}
		mountPath := m["mountPath"].(string)
		for name, v := range env {
			if rest, ok := strings.CutPrefix(v, mountPath+"/"); ok {
				env[name] = filepath.Join(local, rest)
			}
		}
	}
	return env, errors.Join(errs...)
}

// --- Running the code's own configuration check ----------------------------

// configCheckVar makes the test binary, started again by checkConfig, run
// one main's configuration step with its environment and exit: 0 valid,
// 1 invalid (the error on stdout). It runs in a fresh process because the
// functions read the process environment once.
const configCheckVar = "MSC_KNATIVE_CONFIG_CHECK"

// configChecks is what each main does with its environment before it
// serves: the same calls, so a variable the code requires is required here.
var configChecks = map[string]func() error{
	modulePath + "/functions/ingest/cmd":    func() error { _, err := ingest.Default(); return err },
	modulePath + "/functions/reconcile/cmd": func() error { _, err := reconcile.Default(); return err },
	modulePath + "/agent/cmd":               func() error { _, err := agentconfig.FromEnv(os.Getenv); return err },
}

// runConfigCheck is the child's side; TestMain calls it.
func runConfigCheck(main string) int {
	check, ok := configChecks[main]
	if !ok {
		fmt.Printf("no configuration check for %s\n", main)
		return 3
	}
	if err := check(); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}

// checkConfig runs main's configuration step in a child process with
// exactly env and returns its error text ("" when valid).
func checkConfig(t testing.TB, main string, env map[string]string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{configCheckVar + "=" + main}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return strings.TrimSpace(stdout.String())
	}
	t.Fatalf("configuration check of %s: %v\nstdout: %s\nstderr: %s", main, err, &stdout, &stderr)
	return ""
}

// --- The tests -----------------------------------------------------------

// wantEnv is every variable each workload sets, by overlay.
var wantEnv = func() map[string]map[string][]string {
	ingestEnv := []string{"INGEST_TOKENS_FILE", "LOG_FORMAT", "LOG_LEVEL", "REDIS_PASSWORD_FILE", "REDIS_URL"}
	reconcileEnv := []string{"GITHUB_TOKEN", "LOG_FORMAT", "LOG_LEVEL", "RECONCILE_TIMEOUT", "REDIS_PASSWORD_FILE", "REDIS_URL",
		"REGISTRY_ADD_MISSING", "REGISTRY_BASE_BRANCH", "REGISTRY_FILE_PATH", "REGISTRY_PR_BRANCH",
		"REGISTRY_PR_LABELS", "REGISTRY_REPO_NAME", "REGISTRY_REPO_OWNER"}
	agentEnv := []string{"CLUSTER_NAME", "COLLECTOR_TOKEN_FILE", "COLLECTOR_URL", "LOG_LEVEL"}
	const agent = "apps/v1 Deployment machinery-status-collector/machinery-status-agent/agent"
	return map[string]map[string][]string{
		overlayKnative: {
			"serving.knative.dev/v1 Service machinery-status-collector/ingest/ingest":       ingestEnv,
			"serving.knative.dev/v1 Service machinery-status-collector/reconcile/reconcile": reconcileEnv,
			agent: agentEnv,
		},
		overlayCronJob: {
			"apps/v1 Deployment machinery-status-collector/ingest/ingest":     ingestEnv,
			"batch/v1 CronJob machinery-status-collector/reconcile/reconcile": reconcileEnv,
			agent: agentEnv,
		},
		exampleDir: {agent: agentEnv},
	}
}()

// wantRequired is, per main, which of the variables the manifests set the
// code refuses to start without (found by dropping each in turn).
var wantRequired = map[string][]string{
	modulePath + "/functions/ingest/cmd":    {"INGEST_TOKENS_FILE", "REDIS_URL"},
	modulePath + "/functions/reconcile/cmd": {"REDIS_URL", "REGISTRY_FILE_PATH", "REGISTRY_REPO_NAME", "REGISTRY_REPO_OWNER"},
	modulePath + "/agent/cmd":               {"CLUSTER_NAME", "COLLECTOR_URL"},
}

// Every variable a manifest sets is one its program reads, and the
// program's own configuration step accepts the manifest's environment as
// is (so every variable it requires is set), with the Secrets filled in.
func TestEnvMatchesCode(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range []string{overlayKnative, overlayCronJob, exampleDir} {
		objs := render(t, dir)
		found := map[string]bool{}
		for _, o := range objs {
			for _, c := range containers(o) {
				main := c.koMain()
				if main == "" {
					continue // third-party image (Redis)
				}
				id := c.workload + "/" + c.name()
				found[id] = true
				t.Run(dir+"/"+id, func(t *testing.T) {
					t.Parallel()
					env, err := containerEnv(objs, filledSecrets, c, t.TempDir())
					if err != nil {
						t.Fatal(err)
					}
					names := slices.Sorted(func(yield func(string) bool) {
						for k := range env {
							if !yield(k) {
								return
							}
						}
					})
					if want := wantEnv[dir][id]; !slices.Equal(names, want) {
						t.Errorf("variables set:\ngot  %v\nwant %v", names, want)
					}
					reads := envReads(t, root, main)
					for _, n := range names {
						if !reads[n] {
							t.Errorf("sets %s, which %s never reads", n, main)
						}
					}
					if msg := checkConfig(t, main, env); msg != "" {
						t.Fatalf("%s rejects the manifest's environment:\n%s", main, msg)
					}
					var required []string
					for _, n := range names {
						without := maps.Clone(env)
						delete(without, n)
						if checkConfig(t, main, without) != "" {
							required = append(required, n)
						}
					}
					if want := wantRequired[main]; !slices.Equal(required, want) {
						t.Errorf("required variables:\ngot  %v\nwant %v", required, want)
					}
				})
			}
		}
		for id := range wantEnv[dir] {
			if !found[id] {
				t.Errorf("%s: no workload container %s", dir, id)
			}
		}
	}
}

// The Secret templates have exactly the keys the manifests use, and left
// unedited they keep the ingest from starting: it never runs with a token
// published in Git.
func TestSecretTemplates(t *testing.T) {
	templates := secretTemplates(t)
	for name, want := range filledSecrets {
		got := templates[name]
		if got == nil {
			t.Errorf("no Secret template %s", name)
			continue
		}
		for k := range want {
			if _, ok := got[k]; !ok {
				t.Errorf("Secret template %s has no key %s", name, k)
			}
		}
		if len(got) != len(want) {
			t.Errorf("Secret template %s has keys %v, want those of %v", name, got, want)
		}
	}
	if len(templates) != len(filledSecrets) {
		t.Errorf("%d Secret templates, the test knows %d", len(templates), len(filledSecrets))
	}

	objs := render(t, overlayKnative)
	ingestSvc := find(t, objs, "serving.knative.dev/v1 Service machinery-status-collector/ingest")
	c := containers(ingestSvc)[0]
	env, err := containerEnv(objs, templates, c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	msg := checkConfig(t, c.koMain(), env)
	want := "INGEST_TOKENS_FILE: line 1: token for cluster hub is shorter than 16 characters"
	if !strings.Contains(msg, want) {
		t.Fatalf("ingest with the unedited ingest-tokens template:\ngot  %q\nwant an error containing %q", msg, want)
	}
	if pw := regexp.MustCompile(`REDIS_PASSWORD_FILE: the password in \S+/redis-password/password is shorter than 16 characters`); !pw.MatchString(msg) {
		t.Fatalf("ingest with the unedited redis-password template:\ngot  %q\nwant an error matching %s", msg, pw)
	}
	t.Logf("unedited template refused: %s", msg)
}

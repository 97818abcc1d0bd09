package knative

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// knMarker precedes the README's shell block of kn commands.
const knMarker = "<!-- kn: knative/kn_test.go"

// knBlock returns the README's kn block as commands, each a list of shell
// words: continuation lines joined, quotes removed ("$(...)" stays one word).
func knBlock(readme string) ([][]string, error) {
	_, rest, ok := strings.Cut(readme, knMarker)
	if !ok {
		return nil, fmt.Errorf("README.md has no %q block", knMarker)
	}
	_, rest, _ = strings.Cut(rest, "```sh\n")
	body, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		return nil, fmt.Errorf("README.md: the kn block has no closing fence")
	}
	var cmds [][]string
	for _, line := range strings.Split(strings.ReplaceAll(body, "\\\n", " "), "\n") {
		words, err := shellWords(line)
		if err != nil {
			return nil, fmt.Errorf("README.md kn block: %q: %w", line, err)
		}
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
	}
	return cmds, nil
}

// shellWords splits line as a POSIX shell would for these commands:
// blanks separate words, '...' and "..." quote, $(...) nests, # starts a
// comment at a word's start.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
			continue
		case c == '#' && !inWord:
			return words, nil
		case c == '\'' || c == '"':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c", c)
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 1
		case c == '$' && i+1 < len(line) && line[i+1] == '(':
			end := strings.IndexByte(line[i:], ')')
			if end < 0 {
				return nil, fmt.Errorf("unterminated $(")
			}
			cur.WriteString(line[i : i+end+1])
			i += end
		default:
			cur.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// knSettings reads `kn service create NAME flags...` into settings, keyed
// as serviceSettings keys a rendered Service. A flag this test does not
// compare is an error, so nothing the README names goes unchecked.
func knSettings(args []string) (string, map[string]string, error) {
	name, args := args[0], args[1:]
	s := map[string]string{}
	opts := map[string]string{} // probe kind -> options
	for i := 0; i < len(args); i++ {
		flag := args[i]
		if flag == "--cluster-local" {
			s["cluster-local"] = "true"
			continue
		}
		if i+1 >= len(args) {
			return "", nil, fmt.Errorf("kn service create %s: %s has no value", name, flag)
		}
		i++
		v := args[i]
		switch flag {
		case "-n":
			if v != "$NS" {
				return "", nil, fmt.Errorf("kn service create %s: namespace %s, want $NS", name, v)
			}
		case "--image":
			path, ok := strings.CutPrefix(v, "$(ko build ./")
			if !ok || !strings.HasSuffix(path, ")") {
				return "", nil, fmt.Errorf("kn service create %s: image %s is not $(ko build ./...)", name, v)
			}
			s["image"] = modulePath + "/" + strings.TrimSuffix(path, ")")
		case "--port":
			s["port"] = v
		case "--label":
			k, val, _ := strings.Cut(v, "=")
			s["label "+k] = val
		case "--env-from":
			cm, ok := strings.CutPrefix(v, "config-map:")
			if !ok {
				return "", nil, fmt.Errorf("kn service create %s: --env-from %s is not config-map:NAME", name, v)
			}
			s["envFrom "+cm] = "configMap"
		case "--env":
			k, val, _ := strings.Cut(v, "=")
			s["env "+k] = val
		case "--env-value-from":
			k, ref, _ := strings.Cut(v, "=")
			s["env "+k] = ref
		case "--mount":
			path, ref, _ := strings.Cut(v, "=")
			s["mount "+path] = ref
		case "--scale-min", "--scale-max", "--scale-target", "--concurrency-limit", "--timeout":
			s[strings.TrimPrefix(flag, "--")] = v
		case "--request", "--limit":
			for _, r := range strings.Split(v, ",") {
				k, q, _ := strings.Cut(r, "=")
				s[strings.TrimPrefix(flag, "--")+" "+k] = q
			}
		case "--probe-readiness", "--probe-liveness":
			path, ok := strings.CutPrefix(v, "http:::")
			if !ok {
				return "", nil, fmt.Errorf("kn service create %s: %s %s is not http:::PATH", name, flag, v)
			}
			s[strings.TrimPrefix(flag, "--")] = path
		case "--probe-readiness-opts", "--probe-liveness-opts":
			opts[strings.TrimSuffix(strings.TrimPrefix(flag, "--"), "-opts")] = v
		default:
			return "", nil, fmt.Errorf("kn service create %s: flag %s is not compared with the manifests", name, flag)
		}
	}
	for probe, o := range opts {
		if _, ok := s[probe]; !ok {
			return "", nil, fmt.Errorf("kn service create %s: --%s-opts without --%s", name, probe, probe)
		}
		s[probe] += " " + o
	}
	return name, s, nil
}

// serviceSettings is what a rendered Knative Service sets, keyed as
// knSettings keys the kn flags; an unsupported construct is an error.
func serviceSettings(o *unstructured.Unstructured) (map[string]string, error) {
	s := map[string]string{}
	tmpl, _, _ := unstructured.NestedMap(o.Object, "spec", "template")
	for k, v := range o.GetLabels() {
		if k == "networking.knative.dev/visibility" && v == "cluster-local" {
			s["cluster-local"] = "true"
		} else if k == "app.kubernetes.io/name" {
			s["label "+k] = v
		}
	}
	ann, _, _ := unstructured.NestedStringMap(tmpl, "metadata", "annotations")
	for k, v := range ann {
		switch k {
		case "autoscaling.knative.dev/min-scale":
			s["scale-min"] = v
		case "autoscaling.knative.dev/max-scale":
			s["scale-max"] = v
		case "autoscaling.knative.dev/target":
			s["scale-target"] = v
		default:
			return nil, fmt.Errorf("annotation %s has no kn flag here", k)
		}
	}
	if n, ok, _ := unstructured.NestedInt64(tmpl, "spec", "containerConcurrency"); ok {
		s["concurrency-limit"] = fmt.Sprint(n)
	}
	if n, ok, _ := unstructured.NestedInt64(tmpl, "spec", "timeoutSeconds"); ok {
		s["timeout"] = fmt.Sprint(n)
	}
	cs := containers(o)
	if len(cs) != 1 {
		return nil, fmt.Errorf("%d containers, want 1", len(cs))
	}
	c := cs[0]
	s["image"] = c.koMain()
	ports, _ := c.spec["ports"].([]any)
	for _, p := range ports {
		m := p.(map[string]any)
		s["port"] = fmt.Sprintf("%v:%v", m["name"], m["containerPort"])
	}
	envFrom, _ := c.spec["envFrom"].([]any)
	for _, e := range envFrom {
		name, ok := lookup(e, "configMapRef", "name")
		if !ok {
			return nil, fmt.Errorf("envFrom %v is not a ConfigMap", e)
		}
		s["envFrom "+generatedSuffix.ReplaceAllString(name.(string), "")] = "configMap"
	}
	env, _ := c.spec["env"].([]any)
	for _, e := range env {
		m := e.(map[string]any)
		if v, ok := m["value"].(string); ok {
			s["env "+m["name"].(string)] = v
		} else if sec, ok := lookup(m, "valueFrom", "secretKeyRef"); ok {
			ref := sec.(map[string]any)
			s["env "+m["name"].(string)] = fmt.Sprintf("secret:%v:%v", ref["name"], ref["key"])
		} else {
			return nil, fmt.Errorf("env %v has no kn flag here", m)
		}
	}
	volumes := map[string]any{}
	vols, _ := c.pod["volumes"].([]any)
	for _, v := range vols {
		volumes[v.(map[string]any)["name"].(string)] = v
	}
	mounts, _ := c.spec["volumeMounts"].([]any)
	for _, mt := range mounts {
		m := mt.(map[string]any)
		secret, ok := lookup(volumes[m["name"].(string)], "secret", "secretName")
		if !ok {
			return nil, fmt.Errorf("volume %v is not a Secret", m["name"])
		}
		s["mount "+m["mountPath"].(string)] = fmt.Sprintf("secret:%v", secret)
	}
	for _, kind := range []string{"requests", "limits"} {
		res, _, _ := unstructured.NestedStringMap(c.spec, "resources", kind)
		for k, v := range res {
			s[strings.TrimSuffix(kind, "s")+" "+k] = v
		}
	}
	for probe, field := range map[string]string{"probe-readiness": "readinessProbe", "probe-liveness": "livenessProbe"} {
		if p, ok := c.spec[field].(map[string]any); ok {
			path, _ := lookup(p, "httpGet", "path")
			s[probe] = fmt.Sprintf("%v PeriodSeconds=%v", path, p["periodSeconds"])
		}
	}
	return s, nil
}

// TestKnCommandsMatchTheKnativeOverlay: the README's kn path sets what
// knative/overlays/knative sets: per Service every variable, Secret key,
// mount, scaling and concurrency setting, timeout, resource and probe
// (both ways: nothing more, nothing less); the PingSource's schedule and
// sink; and ConfigMaps of the generators' names from the same .env files.
func TestKnCommandsMatchTheKnativeOverlay(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := knBlock(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]*unstructured.Unstructured{}
	for _, o := range render(t, overlayKnative) {
		objs[o.GetKind()+" "+o.GetName()] = o
	}
	configMaps := map[string]string{} // created by the block: name -> env file
	services, pings := 0, 0
	for _, c := range cmds {
		line := strings.Join(c, " ")
		switch {
		case len(c) > 3 && c[0] == "kn" && c[1] == "service" && c[2] == "create":
			name, got, err := knSettings(c[3:])
			if err != nil {
				t.Fatal(err)
			}
			o, ok := objs["Service "+name]
			if !ok || o.GetAPIVersion() != "serving.knative.dev/v1" {
				t.Fatalf("kn service create %s: the overlay has no Knative Service %s", name, name)
			}
			want, err := serviceSettings(o)
			if err != nil {
				t.Fatalf("Service %s: %v", name, err)
			}
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if got[k] != want[k] {
					t.Errorf("kn service create %s: %s = %q, the manifest has %q", name, k, got[k], want[k])
				}
			}
			for _, k := range slices.Sorted(maps.Keys(got)) {
				if _, ok := want[k]; !ok {
					t.Errorf("kn service create %s: sets %s = %q, the manifest does not", name, k, got[k])
				}
			}
			for k := range got {
				if cm, ok := strings.CutPrefix(k, "envFrom "); ok && configMaps[cm] == "" {
					t.Errorf("kn service create %s: ConfigMap %s is not created before it", name, cm)
				}
			}
			services++
		case len(c) > 4 && c[0] == "kn" && c[1] == "source" && c[2] == "ping" && c[3] == "create":
			o, ok := objs["PingSource "+c[4]]
			if !ok {
				t.Fatalf("%s: the overlay has no PingSource %s", line, c[4])
			}
			schedule, _, _ := unstructured.NestedString(o.Object, "spec", "schedule")
			sink, _, _ := unstructured.NestedString(o.Object, "spec", "sink", "ref", "name")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "sink", "ref", "kind")
			want := fmt.Sprintf("kn source ping create %s -n $NS --schedule %s --sink ksvc:%s", c[4], schedule, sink)
			if line != want || kind != "Service" {
				t.Errorf("README: %s\nwant:   %s (sink kind %s)", line, want, kind)
			}
			pings++
		case len(c) > 5 && c[0] == "kubectl" && slices.Contains(c, "configmap"):
			i := slices.Index(c, "configmap")
			file, ok := strings.CutPrefix(c[len(c)-1], "--from-env-file=")
			if !ok || i+1 >= len(c) {
				t.Fatalf("%s: want kubectl -n $NS create configmap NAME --from-env-file=FILE", line)
			}
			configMaps[c[i+1]] = file
		}
	}
	if services != 2 || pings != 1 {
		t.Fatalf("README kn block: %d kn service create, %d kn source ping create; want 2 and 1", services, pings)
	}
	// The ConfigMaps hold what the base's generators hold.
	var base struct {
		ConfigMapGenerator []struct {
			Name string
			Envs []string
		} `json:"configMapGenerator"`
	}
	b, err := os.ReadFile(baseDir + "/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &base); err != nil {
		t.Fatal(err)
	}
	generated := map[string]string{}
	for _, g := range base.ConfigMapGenerator {
		generated[g.Name] = "knative/" + baseDir + "/" + strings.Join(g.Envs, ",")
	}
	if !maps.Equal(configMaps, generated) {
		t.Errorf("README kn block creates ConfigMaps %v, the base generates %v", configMaps, generated)
	}
}

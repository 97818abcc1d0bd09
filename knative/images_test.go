package knative

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// koConfig is the part of .ko.yaml this repository uses; strict decoding
// catches a misspelt key, which ko itself would ignore.
type koConfig struct {
	DefaultBaseImage string   `json:"defaultBaseImage"`
	DefaultPlatforms []string `json:"defaultPlatforms"`
	Builds           []struct {
		ID      string   `json:"id"`
		Dir     string   `json:"dir"`
		Main    string   `json:"main"`
		Env     []string `json:"env"`
		Flags   []string `json:"flags"`
		Ldflags []string `json:"ldflags"`
	} `json:"builds"`
}

// readKoConfig decodes root's .ko.yaml strictly.
func readKoConfig(t testing.TB, root string) koConfig {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, ".ko.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kc koConfig
	if err := yaml.UnmarshalStrict(raw, &kc); err != nil {
		t.Fatalf(".ko.yaml: %v", err)
	}
	return kc
}

// images returns every container image (init containers too) of objs.
func images(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		for _, c := range containers(o) {
			if img, ok := c.spec["image"].(string); ok {
				out = append(out, img)
			}
		}
	}
	return out
}

// The ko:// references are exactly the three mains, each a `package main`
// of this module with a .ko.yaml build, so ko resolves all three; the only
// other image is Redis.
func TestImagesResolveWithKo(t *testing.T) {
	root := repoRoot(t)
	kc := readKoConfig(t, root)
	var builds []string
	for _, b := range kc.Builds {
		dir := filepath.Join(root, b.Dir, b.Main)
		rel, err := filepath.Rel(root, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf(".ko.yaml build %s: main %s is outside the module", b.ID, b.Main)
		}
		builds = append(builds, modulePath+"/"+filepath.ToSlash(rel))
	}
	slices.Sort(builds)

	var refs, others []string
	for _, dir := range []string{overlayKnative, overlayCronJob} {
		for _, img := range images(render(t, dir)) {
			if path, ok := strings.CutPrefix(img, koPrefix); ok {
				refs = append(refs, path)
			} else {
				others = append(others, img)
			}
		}
	}
	refs = slices.Compact(slices.Sorted(slices.Values(refs)))
	others = slices.Compact(slices.Sorted(slices.Values(others)))

	wantRefs := []string{
		modulePath + "/agent/cmd",
		modulePath + "/functions/ingest/cmd",
		modulePath + "/functions/reconcile/cmd",
	}
	if !slices.Equal(refs, wantRefs) {
		t.Errorf("ko:// references in the overlays:\ngot  %v\nwant %v", refs, wantRefs)
	}
	if !slices.Equal(builds, wantRefs) {
		t.Errorf(".ko.yaml builds:\ngot  %v\nwant %v", builds, wantRefs)
	}
	if want := []string{"redis:7.2-alpine"}; !slices.Equal(others, want) {
		t.Errorf("other images: got %v, want %v", others, want)
	}
	for _, ref := range refs {
		if name := packageName(t, filepath.Join(root, strings.TrimPrefix(ref, modulePath))); name != "main" {
			t.Errorf("%s is package %q, ko can only build package main", ref, name)
		}
	}
}

// packageName is the package clause of the Go files in dir.
func packageName(t testing.TB, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		return af.Name.Name
	}
	t.Fatalf("no Go files in %s", dir)
	return ""
}

// koGit is the Git part of the data ko renders flags and ldflags with
// (ko's configuration docs, "Templating support").
type koGit struct {
	Branch, Tag, ShortCommit, FullCommit, CommitDate, CommitTimestamp, TreeState string
	IsDirty, IsClean                                                             bool
}

// Every ko build links the version into shared/buildinfo.Version, so a ko
// image reports a version, not "dev": the git tag, else the short commit.
// The linker ignores an -X whose target does not exist, so the target is
// checked against the package's source.
func TestKoBuildsSetTheVersion(t *testing.T) {
	root := repoRoot(t)
	kc := readKoConfig(t, root)
	const target = modulePath + "/shared/buildinfo.Version="
	if !declaresVar(t, filepath.Join(root, "shared/buildinfo"), "Version") {
		t.Fatalf("shared/buildinfo declares no package-level Version, the -X target of the ko builds")
	}
	cases := []struct {
		git  koGit
		want string
	}{
		{koGit{Tag: "v1.2.3", ShortCommit: "0123abc", TreeState: "clean", IsClean: true}, "v1.2.3"},
		{koGit{ShortCommit: "0123abc", TreeState: "dirty", IsDirty: true}, "0123abc"},
	}
	if len(kc.Builds) == 0 {
		t.Fatal(".ko.yaml has no builds")
	}
	for _, b := range kc.Builds {
		for _, c := range cases {
			var versions []string
			for _, ld := range b.Ldflags {
				tpl, err := template.New(b.ID).Option("missingkey=error").Parse(ld)
				if err != nil {
					t.Fatalf("build %s: ldflags %q: %v", b.ID, ld, err)
				}
				var out strings.Builder
				data := map[string]any{"Env": map[string]string{}, "GoEnv": map[string]string{},
					"Date": "2026-12-02T14:00:00Z", "Timestamp": "1796220000", "Git": c.git}
				if err := tpl.Execute(&out, data); err != nil {
					t.Fatalf("build %s: ldflags %q: %v", b.ID, ld, err)
				}
				fields := strings.Fields(out.String())
				for i, f := range fields {
					if f == "-X" && i+1 < len(fields) {
						if v, ok := strings.CutPrefix(fields[i+1], target); ok {
							versions = append(versions, v)
						}
					}
				}
			}
			if len(versions) != 1 || versions[0] != c.want {
				t.Errorf("build %s with git %+v links Version %q, want exactly one -X %s%s", b.ID, c.git, versions, target, c.want)
			}
		}
	}
}

// declaresVar reports whether the Go package in dir declares a
// package-level variable name, the only kind -X can set.
func declaresVar(t testing.TB, dir, name string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
				for _, s := range gd.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						if n.Name == name {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

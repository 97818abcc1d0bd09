package publish

import (
	"testing"
)

func TestParsePattern(t *testing.T) {
	tests := []struct {
		raw     string
		kind    PatternKind
		root    string
		match   string
		cluster string
		ok      bool
		wantErr string
	}{
		{raw: "registry.yaml", kind: PatternFile, root: ".", match: "registry.yaml", ok: true},
		{raw: "reg/claims.yaml", kind: PatternFile, root: "reg", match: "reg/other.yaml"},
		{raw: "registry/*.yaml", kind: PatternGlob, root: "registry", match: "registry/a.yaml", ok: true},
		{raw: "registry/*.yaml", kind: PatternGlob, root: "registry", match: "registry/sub/a.yaml"},
		{raw: "registry/{cluster}.yaml", kind: PatternTemplate, root: "registry", match: "registry/prod-1.yaml", cluster: "prod-1", ok: true},
		{raw: "registry/{cluster}.yaml", kind: PatternTemplate, root: "registry", match: "registry/a/b.yaml"},
		{raw: "registry/{cluster}.yaml", kind: PatternTemplate, root: "registry", match: "registry/.yaml"},
		{raw: "", wantErr: "REGISTRY_FILE_PATH is required"},
		{raw: "r/{cluster}-{cluster}.yaml", wantErr: `REGISTRY_FILE_PATH "r/{cluster}-{cluster}.yaml": {cluster} may appear once, found 2`},
		{raw: "r/*/{cluster}.yaml", wantErr: `REGISTRY_FILE_PATH "r/*/{cluster}.yaml": a {cluster} template may not also hold glob characters (*?[\)`},
		{raw: "{cluster}/registry.yaml", wantErr: `REGISTRY_FILE_PATH "{cluster}/registry.yaml": {cluster} must be in the file name, not in a directory`},
		{raw: "r/{cluster}", wantErr: `REGISTRY_FILE_PATH "r/{cluster}": a template needs more than {cluster} in the file name (e.g. {cluster}.yaml)`},
		{raw: "r/[a.yaml", wantErr: `REGISTRY_FILE_PATH "r/[a.yaml": syntax error in pattern`},
		{raw: "r/{name}.yaml", wantErr: `REGISTRY_FILE_PATH "r/{name}.yaml": the only placeholder is {cluster}`},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.raw)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q: error %v, want %q", tt.raw, err, tt.wantErr)
			}
			continue
		}
		if err != nil || p.Kind != tt.kind || p.Root() != tt.root {
			t.Errorf("%q: %+v root %q, %v", tt.raw, p, p.Root(), err)
			continue
		}
		if c, ok := p.Match(tt.match); ok != tt.ok || c != tt.cluster {
			t.Errorf("%q matching %q: %q %v", tt.raw, tt.match, c, ok)
		}
	}
	if p, _ := ParsePattern("registry/{cluster}.yaml"); p.FileFor("b") != "registry/b.yaml" || p.Glob() != "registry/*.yaml" {
		t.Errorf("template: %q %q", p.FileFor("b"), p.Glob())
	}
}

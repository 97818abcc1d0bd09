package publish

import (
	"fmt"
	"path"
	"strings"
)

// ClusterPlaceholder in REGISTRY_FILE_PATH makes it a per-cluster template.
const ClusterPlaceholder = "{cluster}"

// PatternKind says how REGISTRY_FILE_PATH names the registry files.
type PatternKind int

const (
	// PatternFile is one registry file holding every cluster.
	PatternFile PatternKind = iota
	// PatternGlob matches several files (path.Match syntax); a record goes
	// to the files that hold its cluster.
	PatternGlob
	// PatternTemplate names one file per cluster: registry/{cluster}.yaml.
	PatternTemplate
)

// Pattern is a parsed REGISTRY_FILE_PATH.
type Pattern struct {
	Raw  string
	Kind PatternKind
	// prefix and suffix surround {cluster} in a template.
	prefix, suffix string
}

// ParsePattern checks a REGISTRY_FILE_PATH: a file path, a glob
// (`registry/*.yaml`) or a template with one `{cluster}` in its last path
// element (`registry/{cluster}.yaml`). A template may not also hold glob
// characters, and a glob must be valid path.Match syntax.
func ParsePattern(raw string) (Pattern, error) {
	p := Pattern{Raw: raw}
	meta := strings.ContainsAny(raw, `*?[\`)
	switch n := strings.Count(raw, ClusterPlaceholder); {
	case raw == "":
		return p, fmt.Errorf("REGISTRY_FILE_PATH is required")
	case n > 1:
		return p, fmt.Errorf("REGISTRY_FILE_PATH %q: %s may appear once, found %d", raw, ClusterPlaceholder, n)
	case n == 1:
		i := strings.Index(raw, ClusterPlaceholder)
		p.Kind, p.prefix, p.suffix = PatternTemplate, raw[:i], raw[i+len(ClusterPlaceholder):]
		if meta {
			return p, fmt.Errorf("REGISTRY_FILE_PATH %q: a %s template may not also hold glob characters (*?[\\)", raw, ClusterPlaceholder)
		}
		if strings.Contains(p.suffix, "/") {
			return p, fmt.Errorf("REGISTRY_FILE_PATH %q: %s must be in the file name, not in a directory", raw, ClusterPlaceholder)
		}
		if p.prefix+p.suffix == "" || strings.HasSuffix(p.prefix, "/") && p.suffix == "" {
			return p, fmt.Errorf("REGISTRY_FILE_PATH %q: a template needs more than %s in the file name (e.g. %s.yaml)", raw, ClusterPlaceholder, ClusterPlaceholder)
		}
	case meta:
		p.Kind = PatternGlob
		if _, err := path.Match(raw, ""); err != nil {
			return p, fmt.Errorf("REGISTRY_FILE_PATH %q: %w", raw, err)
		}
	}
	if strings.ContainsAny(raw, "{}") && p.Kind != PatternTemplate {
		return p, fmt.Errorf("REGISTRY_FILE_PATH %q: the only placeholder is %s", raw, ClusterPlaceholder)
	}
	if p.Kind == PatternTemplate && strings.ContainsAny(p.prefix+p.suffix, "{}") {
		return p, fmt.Errorf("REGISTRY_FILE_PATH %q: the only placeholder is %s", raw, ClusterPlaceholder)
	}
	return p, nil
}

// Sharded reports whether the pattern may name several files.
func (p Pattern) Sharded() bool { return p.Kind != PatternFile }

// Match reports whether name is one of the pattern's files; for a
// template it also returns the cluster the file is for.
func (p Pattern) Match(name string) (cluster string, ok bool) {
	switch p.Kind {
	case PatternTemplate:
		if len(name) <= len(p.prefix)+len(p.suffix) || !strings.HasPrefix(name, p.prefix) || !strings.HasSuffix(name, p.suffix) {
			return "", false
		}
		c := name[len(p.prefix) : len(name)-len(p.suffix)]
		if strings.Contains(c, "/") {
			return "", false
		}
		return c, true
	case PatternGlob:
		ok, _ := path.Match(p.Raw, name)
		return "", ok
	}
	return "", name == p.Raw
}

// FileFor is a template's file for cluster; "" for other kinds.
func (p Pattern) FileFor(cluster string) string {
	if p.Kind != PatternTemplate {
		return ""
	}
	return p.prefix + cluster + p.suffix
}

// Glob is the pattern as a glob (a template's {cluster} becomes *).
func (p Pattern) Glob() string {
	if p.Kind == PatternTemplate {
		return p.prefix + "*" + p.suffix
	}
	return p.Raw
}

// Root is the directory the pattern's fixed part names: the folder up to
// the first glob character or {cluster}. The local publisher keeps the
// proposed files' paths relative to it.
func (p Pattern) Root() string {
	fixed := p.Raw
	if i := strings.IndexAny(fixed, `*?[\{`); i >= 0 {
		fixed = fixed[:i]
	}
	if p.Kind == PatternFile {
		return path.Dir(fixed)
	}
	if i := strings.LastIndex(fixed, "/"); i >= 0 {
		return fixed[:i]
	}
	return "."
}

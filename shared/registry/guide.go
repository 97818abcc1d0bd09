package registry

import (
	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// guide is the file's own style, sampled from existing entries, used for
// everything this package adds: value quoting per key, how far lists and
// nested mappings are indented, and an entry to copy the key order of.
type guide struct {
	val     [nFields]yamlsrc.Style // quoting of each field's values
	sampled [nFields]bool
	key     yamlsrc.Style // quoting of cluster-name keys
	keyDone bool

	// tmpl is an existing entry; new entries copy its key order.
	tmpl *fields
	// dashOff is how far a list's '-' sits right of its parent key,
	// keyOff how far the entry's keys sit right of the '-'.
	dashOff, keyOff int
	haveList        bool

	// sub1/sub2: ClaimRegistry status maps, cluster key right of
	// `clusters:`, fields right of the cluster key.
	sub1, sub2 int
	haveSub    bool

	unit int // indentation step of the file, 2 when nothing tells

	// Sectioned apply (sections.go) writes while later sections are not
	// read yet. A lookup of something not sampled yet is remembered
	// (asked*); sampling it afterwards sets late, and the run is redone
	// whole, so every write sees what a whole-file read would have.
	askedVal          [nFields]bool
	askedKey, askedLs bool
	askedSub          bool
	late              bool
}

// valStyle is the quoting of fld's values in the file.
func (g *guide) valStyle(fld field) yamlsrc.Style {
	if !g.sampled[fld] {
		g.askedVal[fld] = true
	}
	return g.val[fld]
}

// keyStyle is the quoting of cluster-name keys in the file.
func (g *guide) keyStyle() yamlsrc.Style {
	if !g.keyDone {
		g.askedKey = true
	}
	return g.key
}

// listKnown reports that a block list of entries was sampled, so
// template, keyOff and the indentation step are the file's own.
func (g *guide) listKnown() bool {
	if !g.haveList {
		g.askedLs = true
	}
	return g.haveList
}

// subKnown reports that a ClaimRegistry status map was sampled, so
// sub1 and sub2 are the file's own.
func (g *guide) subKnown() bool {
	if !g.haveSub {
		g.askedSub = true
	}
	return g.haveSub
}

// template is the entry new entries copy the key order of (nil: none).
func (g *guide) template() *fields {
	g.listKnown()
	return g.tmpl
}

// sample notes the value styles of f's fields not seen yet.
func (g *guide) sample(f *fields) {
	for fld := range nFields {
		if g.sampled[fld] || f.val[fld] == nil || fld == fDeleted || fld == fClusters {
			continue
		}
		if st := yamlsrc.StyleOf(f.val[fld]); st != yamlsrc.StyleAny {
			g.late = g.late || g.askedVal[fld]
			// Block styles are kept for a value that has one, but new
			// values are not written that way.
			if st == yamlsrc.StyleLiteral || st == yamlsrc.StyleFolded {
				st = yamlsrc.StyleAny
			}
			g.val[fld], g.sampled[fld] = st, true
		}
	}
}

// sampleKey notes the quoting of a cluster-name key.
func (g *guide) sampleKey(k *yaml.Node) {
	if g.keyDone {
		return
	}
	g.keyDone = true
	g.late = g.late || g.askedKey
	if st := yamlsrc.StyleOf(k); st == yamlsrc.StyleSingle || st == yamlsrc.StyleDouble {
		g.key = st
	}
}

// sampleList notes the shape of the first block list of entries: parent
// key column pk, list (dash) column dash and entry key column kc.
func (g *guide) sampleList(pk, dash, kc int, f *fields) {
	if g.haveList || kc <= dash {
		return
	}
	g.dashOff, g.keyOff, g.tmpl, g.haveList = dash-pk, kc-dash, f, true
	g.late = g.late || g.askedLs
	switch {
	case dash > pk:
		g.unit = dash - pk
	default:
		g.unit = kc - dash
	}
}

// step is the file's indentation step, 2 when nothing tells.
func (g *guide) step() int {
	if g.listKnown() && g.unit > 0 {
		return g.unit
	}
	return 2
}

// listShape is where a new list under a key at column pk puts its dashes
// and keys.
func (g *guide) listShape(pk int) (dash, kc int) {
	if g.listKnown() {
		return pk + g.dashOff, pk + g.dashOff + g.keyOff
	}
	return pk + 2, pk + 4
}

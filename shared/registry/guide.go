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
}

// sample notes the value styles of f's fields not seen yet.
func (g *guide) sample(f *fields) {
	for fld := range nFields {
		if g.sampled[fld] || f.val[fld] == nil || fld == fDeleted || fld == fClusters {
			continue
		}
		if st := yamlsrc.StyleOf(f.val[fld]); st != yamlsrc.StyleAny {
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
	switch {
	case dash > pk:
		g.unit = dash - pk
	default:
		g.unit = kc - dash
	}
}

func (g *guide) step() int {
	if g.unit > 0 {
		return g.unit
	}
	return 2
}

// listShape is where a new list under a key at column pk puts its dashes
// and keys.
func (g *guide) listShape(pk int) (dash, kc int) {
	if g.haveList {
		return pk + g.dashOff, pk + g.dashOff + g.keyOff
	}
	return pk + 2, pk + 4
}

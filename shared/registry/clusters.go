package registry

import (
	"errors"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// The seed's layout: a top-level mapping from cluster name to a list of
// entries {name, namespace, claimRef, statusMessage, lastCheckedAt}.

// clusterList is a top-level cluster key and its list of entries.
type clusterList struct {
	key, val *yaml.Node
	doc      *document
	c        yamlsrc.Ctx // context of the list's items
	last     *fields     // last block entry: new entries copy its shape
}

// planClusters matches records to entries under their cluster's key and
// gathers the edits. A record whose cluster key is absent, or whose claim
// has no entry under it, is missing; with AddMissing it is appended to
// its cluster's list (the key is added to the first document if needed).
func (p *planner) planClusters(recs []*rec) error {
	lists := map[string]*clusterList{}
	index := newEntryIndex(len(recs))
	var fieldSlab slab[fields]
	for di := range p.docs {
		if err := p.readClusters(&p.docs[di], lists, index, &fieldSlab); err != nil {
			return err
		}
	}
	return p.matchClusters(recs, index, lists)
}

// readClusters reads the cluster keys of document d into lists and their
// entries into index.
func (p *planner) readClusters(d *document, lists map[string]*clusterList, index *entryIndex, fieldSlab *slab[fields]) error {
	for i := 0; i+1 < len(d.root.Content); i += 2 {
		k, v := d.root.Content[i], d.root.Content[i+1]
		if prev, dup := lists[k.Value]; dup {
			return errAt(k.Line, ErrInvalidYAML, "invalid YAML: cluster %q appears twice (lines %d and %d)", k.Value, prev.key.Line, k.Line)
		}
		p.guide.sampleKey(k)
		cl := &clusterList{key: k, val: v, doc: d}
		lists[k.Value] = cl
		list := resolve(v) // `cluster-b: *list` holds cluster-a's entries too
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		cl.c = p.s.ChildCtx(list, d.c)
		last, err := p.readEntries(list, cl.c, d.c.Indent, fieldSlab, func(f *fields, item *yaml.Node) error {
			if ns, name, _, ok := f.identity(LayoutClusters); ok {
				index.add(ident{k.Value, ns, name}, f, item.Line)
			}
			return nil
		})
		if err != nil {
			return err
		}
		cl.last = last
	}
	return nil
}

// matchClusters writes the status of recs into the entries of index and,
// with AddMissing, appends the claims without one to lists.
func (p *planner) matchClusters(recs []*rec, index *entryIndex, lists map[string]*clusterList) error {
	adds, err := p.matchClaims(recs, false, index, p.writeCluster)
	if err != nil {
		return err
	}
	if !p.opts.AddMissing {
		return nil
	}
	return p.addClusterEntries(adds, lists)
}

// writeCluster writes the status of claim c's record into its entry.
func (p *planner) writeCluster(c *claim) error {
	x, f := c.recs[0], c.entry.f
	if p.slotShared(f) {
		p.leaveShared(x, c.entry.line)
		return nil
	}
	before := len(p.rep.Changed) + len(p.rep.Deleted)
	if err := p.updateSlot(f, x, readyIfPresent); err != nil {
		return err
	}
	if ref, differs := f.refDiffers(x.ns, x.name); differs && len(p.rep.Changed)+len(p.rep.Deleted) > before {
		p.note(x, c.entry.line, "matched by its namespace and name; its claimRef %q is left as written", ref)
	}
	return nil
}

// addClusterEntries appends entries for missing claims (sorted by
// cluster), cluster by cluster. A cluster whose list is a non-empty flow
// list or shared through an alias, or a file whose top level is a flow
// mapping, gets nothing: the claims stay listed as missing without Added.
func (p *planner) addClusterEntries(adds []*claim, lists map[string]*clusterList) error {
	for i := 0; i < len(adds); {
		cluster := adds[i].recs[0].cluster
		j := i + 1
		for j < len(adds) && adds[j].recs[0].cluster == cluster {
			j++
		}
		batch := adds[i:j]
		i = j
		done, err := p.addToCluster(cluster, batch, lists[cluster])
		if err != nil {
			return err
		}
		if done {
			for _, c := range batch {
				p.added(c.recs[0])
			}
		}
	}
	return nil
}

func (p *planner) addToCluster(cluster string, batch []*claim, cl *clusterList) (bool, error) {
	tmpl := p.guide.template()
	if cl != nil && cl.last != nil {
		tmpl = cl.last
	}
	entries := func(dash, kc int) []string {
		var lines []string
		for _, c := range batch {
			lines = append(lines, listItem(p.clusterEntryBody(c, tmpl), dash, kc)...)
		}
		return lines
	}
	switch {
	case cl != nil && p.isShared(cl.val):
		return false, nil
	case cl == nil:
		d := &p.docs[0]
		if d.c.Flow {
			return false, nil
		}
		key, err := p.keyText(cluster, d.root.Line)
		if err != nil {
			return false, err
		}
		pk := d.c.Indent
		dash, kc := p.guide.listShape(pk)
		at, err := p.s.After(d.root.Content[len(d.root.Content)-1], d.c)
		if err != nil {
			return false, err
		}
		p.insertLines(at, append([]string{strings.Repeat(" ", pk) + key + ":"}, entries(dash, kc)...))
	case cl.val.Kind == yaml.SequenceNode && len(cl.val.Content) > 0:
		if cl.c.Flow {
			return false, nil
		}
		dash := cl.c.Indent
		kc := dash + 2
		if cl.last != nil {
			kc = cl.last.c.Indent
		} else if p.guide.listKnown() {
			kc = dash + p.guide.keyOff
		}
		at, err := p.s.After(cl.val, cl.doc.c)
		if err != nil {
			return false, err
		}
		p.insertLines(at, entries(dash, kc))
	default:
		dash, kc := p.guide.listShape(cl.doc.c.Indent)
		if err := p.fillEmpty(cl.key, cl.val, cl.doc.c, entries(dash, kc)); err != nil {
			if errors.Is(err, ErrUnsupported) {
				return false, nil
			}
			return false, err
		}
	}
	return true, nil
}

// listItem turns entry body lines (relative to the entry's key column)
// into list item lines with the '-' at column dash and keys at column kc.
func listItem(body []string, dash, kc int) []string {
	if kc <= dash {
		kc = dash + 2
	}
	out := make([]string, len(body))
	for i, l := range body {
		if i == 0 {
			out[i] = strings.Repeat(" ", dash) + "-" + strings.Repeat(" ", kc-dash-1) + l
			continue
		}
		out[i] = strings.Repeat(" ", kc) + l
	}
	return out
}

// clusterEntryBody is the `key: value` lines of a new clusters-layout
// entry: the known keys of the template entry in its order, then whatever
// the entry needs to be found again (claimRef or namespace + name, the
// kind when there is doubt) and its status. A ready key is written only
// when the template has one.
func (p *planner) clusterEntryBody(c *claim, tmpl *fields) []string {
	x := c.recs[0]
	var vals [nFields]string
	var have [nFields]bool
	set := func(f field, v string, ok bool) { vals[f], have[f] = v, ok }
	set(fName, x.name, true)
	set(fNamespace, x.ns, true)
	set(fClaimRef, x.ref(), true)
	set(fStatusMessage, x.msg(), true)
	set(fLastCheckedAt, x.at(), x.at() != "")
	set(fReady, x.ready(), x.ready() != "")
	set(fKind, x.kind, x.kind != "")

	var order []field
	var used [nFields]bool
	use := func(f field) {
		if have[f] && !used[f] {
			used[f] = true
			order = append(order, f)
		}
	}
	if tmpl != nil {
		for i := 0; i+1 < len(tmpl.n.Content); i += 2 {
			if k := tmpl.n.Content[i]; k.Kind == yaml.ScalarNode {
				if f, ok := fieldOf(k.Value); ok && f != fDeleted && f != fClusters {
					use(f)
				}
			}
		}
	}
	if !used[fClaimRef] && !(used[fName] && used[fNamespace]) {
		use(fName)
		use(fNamespace)
		use(fClaimRef)
	}
	use(fStatusMessage)
	use(fLastCheckedAt)
	if c.needKind {
		use(fKind)
	}
	lines := make([]string, 0, len(order))
	for _, f := range order {
		lines = append(lines, fieldNames[f]+": "+p.value(f, vals[f]))
	}
	return lines
}

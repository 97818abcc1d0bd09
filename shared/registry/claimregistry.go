package registry

import (
	"cmp"
	"errors"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// The ClaimRegistry layout: `kind: ClaimRegistry` with a `claims:` list.
// An entry describes a claim's lifecycle (its own `status`, left alone);
// this package keeps the observed status per cluster under a `clusters:`
// mapping on the entry:
//
//	clusters:
//	  cluster-a:
//	    ready: "True"
//	    statusMessage: Available
//	    lastCheckedAt: "2026-02-05T10:58:33Z"
//	    deleted: true   # only while the claim is deleted there

// claimsList is a document's `claims:` key and its list (key nil when the
// document has none).
type claimsList struct {
	key, val *yaml.Node
	doc      *document
	c        yamlsrc.Ctx
	last     *fields
}

// planClaimRegistry matches records to entries by namespace and name
// (and kind) and gathers the edits. All of a claim's clusters go to the
// same entry; a claim without an entry is missing and, with AddMissing,
// appended to the first document's claims list.
func (p *planner) planClaimRegistry(recs []*rec) error {
	var lists []*claimsList
	index := newEntryIndex(len(recs))
	var fieldSlab slab[fields]
	for di := range p.docs {
		d := &p.docs[di]
		cl := &claimsList{doc: d}
		lists = append(lists, cl)
		for i := 0; i+1 < len(d.root.Content); i += 2 {
			if k := d.root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "claims" {
				if cl.key != nil {
					return errAt(k.Line, ErrInvalidYAML, "invalid YAML: duplicate key \"claims\" (first at line %d)", cl.key.Line)
				}
				cl.key, cl.val = k, d.root.Content[i+1]
			}
		}
		if cl.val == nil {
			continue
		}
		if cl.val.Kind != yaml.SequenceNode {
			if isNull(cl.val) {
				continue
			}
			return errAt(cl.val.Line, ErrUnknownLayout, "claims is %s; a ClaimRegistry wants a list of claims", kindName(cl.val))
		}
		cl.c = p.s.ChildCtx(cl.val, d.c)
		last, err := p.readEntries(cl.val, cl.c, d.c.Indent, &fieldSlab, func(f *fields, item *yaml.Node) error {
			if ns, name, _, ok := f.identity(LayoutClaimRegistry); ok {
				index.add(ident{ns: ns, name: name}, f, item.Line)
			}
			return p.sampleStatusMaps(f)
		})
		if err != nil {
			return err
		}
		cl.last = last
	}

	// All of a claim's clusters go to the one entry of its namespace and
	// name (and kind).
	adds, err := p.matchClaims(recs, true, index, func(c *claim) error {
		return p.writeClusters(c.entry.f, c.recs, c.entry.line)
	})
	if err != nil {
		return err
	}
	if !p.opts.AddMissing || len(adds) == 0 {
		return nil
	}
	return p.addClaims(adds, lists[0])
}

// sampleStatusMaps learns the indentation and quoting of existing
// per-cluster status maps, so new ones look the same.
func (p *planner) sampleStatusMaps(f *fields) error {
	cv := f.val[fClusters]
	if p.guide.haveSub || f.c.Flow || cv == nil || cv.Kind != yaml.MappingNode || cv.Style&yaml.FlowStyle != 0 {
		return nil
	}
	cc := p.s.ChildCtx(cv, f.c)
	for i := 0; i+1 < len(cv.Content); i += 2 {
		k, v := cv.Content[i], cv.Content[i+1]
		if v.Kind != yaml.MappingNode || v.Style&yaml.FlowStyle != 0 {
			continue
		}
		sf, err := readFields(v, p.s.ChildCtx(v, cc))
		if err != nil {
			return err
		}
		p.guide.sampleKey(k)
		p.guide.sample(sf)
		p.guide.sub1, p.guide.sub2, p.guide.haveSub = cc.Indent-f.c.Indent, sf.c.Indent-cc.Indent, true
		p.guide.late = p.guide.late || p.guide.askedSub
		return nil
	}
	return nil
}

// subSteps is how far a status map's cluster keys sit right of
// `clusters:` and its fields right of the cluster key.
func (p *planner) subSteps() (int, int) {
	if p.guide.subKnown() && p.guide.sub1 > 0 && p.guide.sub2 > 0 {
		return p.guide.sub1, p.guide.sub2
	}
	return p.guide.step(), p.guide.step()
}

// statusLines is a new status map's body for x (deleted records never
// create one).
func (p *planner) statusLines(x *rec) []string {
	var lines []string
	if x.ready() != "" {
		lines = append(lines, "ready: "+p.value(fReady, x.ready()))
	}
	lines = append(lines, "statusMessage: "+p.value(fStatusMessage, x.msg()))
	if x.at() != "" {
		lines = append(lines, "lastCheckedAt: "+p.value(fLastCheckedAt, x.at()))
	}
	return lines
}

// statusBlocks is `cluster:` plus its status map for every live record
// in recs, relative to the cluster key column.
func (p *planner) statusBlocks(recs []*rec, line int) ([]string, []*rec, error) {
	_, sub2 := p.subSteps()
	var lines []string
	var made []*rec
	for _, x := range recs {
		if x.deleted {
			continue
		}
		key, err := p.keyText(x.cluster, line)
		if err != nil {
			return nil, nil, err
		}
		lines = append(lines, key+":")
		lines = append(lines, indent(p.statusLines(x), sub2)...)
		made = append(made, x)
	}
	return lines, made, nil
}

// writeClusters writes the status of recs (one claim, one record per
// cluster) into entry f's `clusters:` map, creating the map or a
// cluster's status as needed.
func (p *planner) writeClusters(f *fields, recs []*rec, line int) error {
	cv := f.val[fClusters]
	if p.shared[f.n] || f.merged[fClusters] || p.isShared(cv) {
		for _, x := range recs {
			p.leaveShared(x, line)
		}
		return nil
	}
	if cv != nil && cv.Kind != yaml.MappingNode && !isNull(cv) {
		return errAt(cv.Line, ErrUnsupported, "clusters of claim %s is %s, not a mapping of cluster statuses", recs[0].ref(), kindName(cv))
	}
	type sub struct{ k, v *yaml.Node }
	var subs map[string]sub
	var cc yamlsrc.Ctx
	if cv != nil && cv.Kind == yaml.MappingNode {
		cc = p.s.ChildCtx(cv, f.c)
		subs = make(map[string]sub, len(cv.Content)/2)
		for i := 0; i+1 < len(cv.Content); i += 2 {
			k := cv.Content[i]
			if prev, dup := subs[k.Value]; dup {
				return errAt(k.Line, ErrInvalidYAML, "invalid YAML: cluster %q appears twice in clusters (lines %d and %d)", k.Value, prev.k.Line, k.Line)
			}
			subs[k.Value] = sub{k, cv.Content[i+1]}
		}
	}
	var fresh []*rec
	for _, x := range recs {
		s, ok := subs[x.cluster]
		switch {
		case ok && p.isShared(s.v):
			p.leaveShared(x, line)
		case !ok:
			fresh = append(fresh, x)
		case s.v.Kind == yaml.MappingNode:
			sf, err := readFields(s.v, p.s.ChildCtx(s.v, cc))
			if err != nil {
				return err
			}
			if p.slotShared(sf) {
				p.leaveShared(x, line)
				continue
			}
			if err := p.updateSlot(sf, x, readyAlways); err != nil {
				return err
			}
		case isNull(s.v):
			if x.deleted {
				continue
			}
			_, sub2 := p.subSteps()
			col := p.s.Col(p.s.Offset(s.k.Line, s.k.Column))
			if err := p.fillEmpty(s.k, s.v, cc, indent(p.statusLines(x), col+sub2)); err != nil {
				return err
			}
			p.change(x, "", statusText(x.ready(), x.msg(), false))
		default:
			return errAt(s.v.Line, ErrUnsupported, "status of claim %s in cluster %s is %s, not a mapping", x.ref(), x.cluster, kindName(s.v))
		}
	}
	lines, made, err := p.statusBlocks(fresh, f.n.Line)
	if err != nil || len(lines) == 0 {
		return err
	}
	sub1, _ := p.subSteps()
	switch {
	case cv == nil:
		if err := p.insertKeys(f, append([]string{"clusters:"}, indent(lines, sub1)...)); err != nil {
			return err
		}
	case len(cv.Content) > 0:
		if cc.Flow {
			return errAt(cv.Line, ErrUnsupported, "cannot add cluster %s to a flow-style clusters mapping; write it as a block mapping", made[0].cluster)
		}
		at, err := p.s.After(cv, f.c)
		if err != nil {
			return err
		}
		p.insertLines(at, indent(lines, cc.Indent))
	default:
		if err := p.fillEmpty(f.key[fClusters], cv, f.c, indent(lines, f.c.Indent+sub1)); err != nil {
			return err
		}
	}
	for _, x := range made {
		p.change(x, "", statusText(x.ready(), x.msg(), false))
	}
	return nil
}

// addClaims appends entries for missing claims to the first document's
// claims list (creating the key or filling an empty list as needed).
func (p *planner) addClaims(adds []*claim, cl *claimsList) error {
	slices.SortStableFunc(adds, func(a, b *claim) int {
		return cmp.Or(cmp.Compare(a.recs[0].ns, b.recs[0].ns), cmp.Compare(a.recs[0].name, b.recs[0].name), cmp.Compare(a.kind, b.kind))
	})
	d := cl.doc
	if d.c.Flow {
		return nil
	}
	tmpl := p.guide.template()
	if cl.last != nil {
		tmpl = cl.last
	}
	var dash, kc int
	switch {
	case cl.val != nil && cl.val.Kind == yaml.SequenceNode && len(cl.val.Content) > 0:
		if cl.c.Flow {
			return nil
		}
		dash, kc = cl.c.Indent, cl.c.Indent+2
		if cl.last != nil {
			kc = cl.last.c.Indent
		} else if p.guide.listKnown() {
			kc = dash + p.guide.keyOff
		}
	default:
		dash, kc = p.guide.listShape(d.c.Indent)
	}
	var lines []string
	for _, c := range adds {
		body, err := p.claimEntryBody(c, tmpl)
		if err != nil {
			return err
		}
		lines = append(lines, listItem(body, dash, kc)...)
	}
	switch {
	case cl.key == nil:
		at, err := p.s.After(d.root.Content[len(d.root.Content)-1], d.c)
		if err != nil {
			return err
		}
		p.insertLines(at, append([]string{strings.Repeat(" ", d.c.Indent) + "claims:"}, lines...))
	case cl.val.Kind == yaml.SequenceNode && len(cl.val.Content) > 0:
		at, err := p.s.After(cl.val, d.c)
		if err != nil {
			return err
		}
		p.insertLines(at, lines)
	default:
		if err := p.fillEmpty(cl.key, cl.val, d.c, lines); err != nil {
			if errors.Is(err, ErrUnsupported) {
				return nil
			}
			return err
		}
	}
	for _, c := range adds {
		for _, x := range c.recs {
			p.added(x)
		}
	}
	return nil
}

// claimEntryBody is a new ClaimRegistry entry: name and namespace (and
// the kind when the template has one or there is doubt), in the
// template's order, then the clusters map.
func (p *planner) claimEntryBody(c *claim, tmpl *fields) ([]string, error) {
	x := c.recs[0]
	vals := map[field]string{fName: x.name, fNamespace: x.ns}
	if c.kind != "" && (c.needKind || tmpl != nil && tmpl.key[fKind] != nil) {
		vals[fKind] = c.kind
	}
	var order []field
	if tmpl != nil {
		for i := 0; i+1 < len(tmpl.n.Content); i += 2 {
			if k := tmpl.n.Content[i]; k.Kind == yaml.ScalarNode {
				if f, ok := fieldOf(k.Value); ok && !slices.Contains(order, f) {
					if _, want := vals[f]; want {
						order = append(order, f)
					}
				}
			}
		}
	}
	for _, f := range []field{fName, fNamespace, fKind} {
		if _, want := vals[f]; want && !slices.Contains(order, f) {
			order = append(order, f)
		}
	}
	var lines []string
	for _, f := range order {
		lines = append(lines, fieldNames[f]+": "+p.value(f, vals[f]))
	}
	blocks, _, err := p.statusBlocks(c.recs, 0)
	if err != nil {
		return nil, err
	}
	sub1, _ := p.subSteps()
	lines = append(lines, "clusters:")
	return append(lines, indent(blocks, sub1)...), nil
}

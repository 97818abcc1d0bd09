package registry

import (
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// planClaimSections plans a ClaimRegistry read in sections (sections.go).
// The first piece holds the header and the `claims:` key as its last key;
// every later piece holds items of that list. A claim's records wait
// until the piece holding its entry; the claims left go missing at the
// end. Any other shape, and any error, means: apply whole.
func (p *planner) planClaimSections(sr *sectionReader, cuts []cut, lines []int, recs []*rec) error {
	for _, c := range cuts[1:] {
		if !c.items {
			return errFallback
		}
	}
	doc, _ := sr.next()
	root := doc.Content[0]
	n := len(root.Content)
	for i := 0; i+2 < n; i += 2 {
		if k := root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "claims" {
			return errFallback
		}
	}
	key, v := root.Content[n-2], root.Content[n-1]
	if key.Kind != yaml.ScalarNode || key.Value != "claims" || v.Kind != yaml.SequenceNode || v.Style&yaml.FlowStyle != 0 || len(v.Content) == 0 {
		return errFallback
	}
	p.shared = sharedNodes(piece(p.s, lines, 0), []*yaml.Node{doc})
	if p.isShared(v) {
		return errFallback
	}
	c := p.s.ChildCtx(root, yamlsrc.TopCtx)
	cl := &claimsList{key: key, val: shortList(v), doc: &document{c: c}, c: p.s.ChildCtx(v, c)}
	o := &openList{
		anyCluster: true, c: cl.c, val: cl.val, last: &cl.last,
		visit: func(index *entryIndex) func(f *fields, item *yaml.Node) error {
			return func(f *fields, item *yaml.Node) error {
				if ns, name, _, ok := f.identity(LayoutClaimRegistry); ok {
					index.add(ident{ns: ns, name: name}, f, item.Line)
				}
				return p.sampleStatusMaps(f)
			}
		},
		write: func(c *claim) error { return p.writeClusters(c.entry.f, c.recs, c.entry.line) },
		add: func(adds []*claim) error {
			if len(adds) == 0 {
				return nil
			}
			return p.addClaims(adds, cl)
		},
	}
	for _, x := range recs {
		x.anyCluster = true
	}
	slices.SortFunc(recs, compareRecs)
	o.wait(recs)

	index := newEntryIndex(0)
	var fieldSlab slab[fields]
	last, err := p.readEntries(v, cl.c, c.Indent, &fieldSlab, o.visit(index))
	if err != nil {
		return err
	}
	cl.last = last
	if err := o.match(p, index); err != nil {
		return err
	}
	for k := 1; k < len(cuts); k++ {
		doc, ok := sr.next()
		if !ok {
			return errFallback
		}
		p.shared = sharedNodes(piece(p.s, lines, k), []*yaml.Node{doc})
		if err := o.items(p, doc.Content[0], c.Indent); err != nil {
			return err
		}
	}
	return o.close(p)
}

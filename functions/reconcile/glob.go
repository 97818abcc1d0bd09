package reconcile

import (
	"context"
	"fmt"
	"slices"

	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// globFile is one file of a glob during a run.
type globFile struct {
	publish.File
	mem     fileMemory
	valid   bool // mem was computed from this base blob
	read    bool
	content []byte
	held    holdings
	out     []byte
	rep     registry.Report
	missing map[string]bool // record keys Apply reported missing here
}

// recKey identifies a record across clusters.
func recKey(r *status.Record) string { return r.Cluster + "\x00" + r.Key() }

// glob reconciles a glob of files: it reads the files that need it (see
// shardRun), applies each cluster's records to every file holding it,
// decides which claims are missing from all of them, and with
// REGISTRY_ADD_MISSING applies once more to the files that receive them.
// The files read are held until the end, so a glob suits tens of files;
// for many, use a {cluster} template, which holds one file at a time.
func (s *shardRun) glob(ctx context.Context, files []publish.File) error {
	if len(files) == 0 {
		return fmt.Errorf("registry %s: no file on the base branch matches", s.pat.Raw)
	}
	gs := make([]*globFile, len(files))
	for i, fl := range files {
		m, ok := s.prev.Files[fl.Path]
		gs[i] = &globFile{File: fl, mem: m, valid: ok && m.Base == fl.BlobSHA}
	}
	orphans, err := s.readNeeded(ctx, gs)
	if err != nil {
		return err
	}
	// Pass 1: every read file with the records of what it holds.
	given := map[string]int{}
	missing := map[string]int{}
	for i, g := range gs {
		if !g.read {
			continue
		}
		recs, err := s.recordsFor(ctx, g, i == 0, orphans)
		if err != nil {
			return err
		}
		if g.out, g.rep, err = registry.Apply(g.content, recs, registry.Options{}); err != nil {
			return fmt.Errorf("registry %s at %s: %w", g.Path, short(s.head.SHA), err)
		}
		g.missing = map[string]bool{}
		for i := range recs {
			given[recKey(&recs[i])]++
		}
		for i := range g.rep.Missing {
			k := recKey(&g.rep.Missing[i].Record)
			g.missing[k] = true
			missing[k]++
		}
	}
	// A claim is missing when every file it went to lacks it; it belongs
	// to the first file holding its cluster, else to the first file.
	target := func(cluster string) *globFile {
		for _, g := range gs {
			if g.read && slices.Contains(g.held.clusters, cluster) {
				return g
			}
		}
		return gs[0]
	}
	owned := func(g *globFile, m *registry.MissingClaim) bool {
		k := recKey(&m.Record)
		return missing[k] == given[k] && target(m.Cluster) == g
	}
	for i, g := range gs {
		if !g.read {
			s.reuse(g.Path, g.BlobSHA, g.mem)
			continue
		}
		addHere := s.f.opts.Registry.AddMissing && slices.ContainsFunc(g.rep.Missing, func(m registry.MissingClaim) bool { return owned(g, &m) })
		if addHere {
			recs, err := s.recordsFor(ctx, g, i == 0, orphans)
			if err != nil {
				return err
			}
			recs = slices.DeleteFunc(recs, func(r status.Record) bool {
				k := recKey(&r)
				return g.missing[k] && !(missing[k] == given[k] && target(r.Cluster) == g)
			})
			if g.out, g.rep, err = registry.Apply(g.content, recs, s.f.opts.Registry); err != nil {
				return fmt.Errorf("registry %s at %s: %w", g.Path, short(s.head.SHA), err)
			}
		}
		g.rep.Missing = slices.DeleteFunc(g.rep.Missing, func(m registry.MissingClaim) bool { return !owned(g, &m) })
		deps := g.held.deps()
		if i == 0 {
			deps = append(slices.Clone(deps), orphans...)
		}
		if err := s.record(ctx, g.Path, g.BlobSHA, g.content, g.out, g.rep, deps); err != nil {
			return err
		}
		if i == 0 {
			m := s.next.Files[g.Path]
			m.Orphans = orphans
			s.next.Files[g.Path] = m
		}
		g.content, g.out = nil, nil
	}
	return nil
}

// readNeeded reads the files whose memory does not cover this run, and
// then, until nothing more is needed, the files sharing a cluster with a
// file read (a claim missing from one may be in the other), and the first
// file when the clusters no file holds changed. It returns those
// clusters, sorted.
func (s *shardRun) readNeeded(ctx context.Context, gs []*globFile) ([]string, error) {
	var orphans []string
	for progress := true; progress; {
		progress = false
		readIt := func(g *globFile) error {
			content, _, err := s.pub.Read(ctx, s.head, g.Path, g.BlobSHA)
			if err != nil {
				return fmt.Errorf("read registry: %w", err)
			}
			if g.held, err = scanHoldings(g.Path, content); err != nil {
				return err
			}
			g.content, g.read, progress = content, true, true
			return nil
		}
		held := map[string]bool{}
		for _, g := range gs {
			if !g.read && (!g.valid || intersects(g.mem.Deps, s.changed)) {
				if err := readIt(g); err != nil {
					return nil, err
				}
			}
			for _, c := range g.held.clusters {
				held[c] = true
			}
		}
		known := map[string]bool{}
		for c := range held {
			known[c] = true
		}
		for i, g := range gs {
			if g.read {
				continue
			}
			deps := g.mem.Deps
			if i == 0 {
				deps = slices.DeleteFunc(slices.Clone(deps), func(c string) bool { return slices.Contains(g.mem.Orphans, c) })
			}
			if intersects(deps, held) {
				if err := readIt(g); err != nil {
					return nil, err
				}
				for _, c := range g.held.clusters {
					known[c] = true
				}
				continue
			}
			for _, c := range deps {
				known[c] = true
			}
		}
		orphans = nil
		for _, c := range s.clusters {
			if !known[c] {
				orphans = append(orphans, c)
			}
		}
		if len(gs) > 0 && !gs[0].read && (!slices.Equal(orphans, gs[0].mem.Orphans) || intersects(orphans, s.changed) || intersects(gs[0].mem.Orphans, s.changed)) {
			if err := readIt(gs[0]); err != nil {
				return nil, err
			}
		}
	}
	return orphans, nil
}

// recordsFor reads the records a file gets, cluster by cluster: those of
// the clusters it holds, or for a ClaimRegistry those of any cluster
// whose claim it holds; the first file also gets the clusters no file
// holds.
func (s *shardRun) recordsFor(ctx context.Context, g *globFile, first bool, orphans []string) ([]status.Record, error) {
	var out []status.Record
	for _, c := range s.clusters {
		holds := slices.Contains(g.held.clusters, c) || first && slices.Contains(orphans, c)
		if !holds && g.held.claims == nil {
			continue
		}
		recs, err := s.f.opts.Store.ClusterRecords(ctx, c)
		if err != nil {
			return nil, err
		}
		if !holds {
			recs = slices.DeleteFunc(recs, func(r status.Record) bool { return !g.held.wants(r) })
		}
		out = append(out, recs...)
	}
	return out, nil
}

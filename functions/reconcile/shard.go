package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// shardRun is one reconcile of a sharded registry (REGISTRY_FILE_PATH a
// glob or a {cluster} template) in progress. Which records go to which
// file:
//
//   - template: a cluster's records go to its file only. A cluster without
//     a file has its claims listed as missing; with REGISTRY_ADD_MISSING
//     it gets a new file in the style of the smallest existing one.
//   - glob: a record goes to every file in the clusters layout that has
//     its cluster as a key, and to every ClaimRegistry file holding its
//     claim (namespace/name). A claim found in none of them is missing
//     once; REGISTRY_ADD_MISSING appends it to the first file (by path)
//     holding its cluster, else to the first file of the glob.
//
// Files are read only when their base blob or the records of a cluster
// they depend on changed since the last successful publish (shardMemory);
// every other file keeps the output it had then, without a call.
type shardRun struct {
	f        *Function
	pub      publish.Files
	pat      publish.Pattern
	head     publish.Head
	prev     shardMemory
	next     shardMemory
	clusters []string        // clusters in the store, sorted
	changed  map[string]bool // clusters whose records moved since prev (or vanished)
	changes  []publish.Change
	example  []byte // a file to copy the style of, read when first needed
	records  int
}

// publishSharded is step 3 of Run for a sharded registry.
//
// It returns nil state when it failed before publishing.
func (f *Function) publishSharded(ctx context.Context, pat publish.Pattern, st savedState, res *Result) (publish.Result, *savedState, error) {
	pub, ok := f.opts.Publisher.(publish.Files)
	if !ok {
		return publish.Result{}, nil, fmt.Errorf("publisher %T cannot publish several registry files", f.opts.Publisher)
	}
	s := &shardRun{f: f, pub: pub, pat: pat, changed: map[string]bool{},
		next: shardMemory{Clusters: map[string]string{}, Files: map[string]fileMemory{}}}
	if st.Shards != nil && st.Known() {
		s.prev = *st.Shards
	}
	var err error
	if s.head, err = pub.Head(ctx); err != nil {
		return publish.Result{}, nil, fmt.Errorf("read registry: %w", err)
	}
	files, err := pub.List(ctx, s.head, func(p string) bool { _, ok := pat.Match(p); return ok })
	if err != nil {
		return publish.Result{}, nil, fmt.Errorf("read registry: %w", err)
	}
	if err := s.fingerprints(ctx); err != nil {
		return publish.Result{}, nil, err
	}
	if pat.Kind == publish.PatternTemplate {
		err = s.template(ctx, files)
	} else {
		err = s.glob(ctx, files)
	}
	if err != nil {
		return publish.Result{}, nil, err
	}
	res.Records = s.records
	var sections []string
	fields := publish.TemplateFields{Path: pat.Raw}
	clusters := map[string]bool{}
	paths := make([]string, 0, len(s.next.Files))
	for p := range s.next.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		m := s.next.Files[p]
		res.Changed, res.Deleted, res.Missing = res.Changed+m.Changed, res.Deleted+m.Deleted, res.Missing+m.Missing
		fields.NotReady += m.NotReady
		for _, c := range m.Clusters {
			clusters[c] = true
		}
		if m.Section != "" {
			sections = append(sections, m.Section)
		}
	}
	fields.Changed, fields.Deleted, fields.Missing, fields.Clusters = res.Changed, res.Deleted, res.Missing, len(clusters)
	title, body := ShardedPRText(fields, sections)
	pres, pst, perr := pub.PublishFiles(ctx, s.head, s.changes, publish.Desired{Title: title, Body: body, Fields: &fields}, st.State)
	out := savedState{State: pst}
	if perr == nil && pres.Action != publish.ActionForeignCommit {
		// Only a published run's outputs are known to be in the
		// repository; after anything else the next run reads every file.
		out.Shards = &s.next
	}
	if perr != nil {
		perr = fmt.Errorf("publish: %w", perr)
	}
	return pres, &out, perr
}

// fingerprints reads each cluster's records once, one cluster at a time,
// to find the clusters that changed since the last publish.
func (s *shardRun) fingerprints(ctx context.Context) error {
	var err error
	if s.clusters, err = s.f.opts.Store.Clusters(ctx); err != nil {
		return err
	}
	for _, c := range s.clusters {
		recs, err := s.f.opts.Store.ClusterRecords(ctx, c)
		if err != nil {
			return err
		}
		s.records += len(recs)
		fp := fingerprint(recs)
		s.next.Clusters[c] = fp
		if s.prev.Clusters[c] != fp {
			s.changed[c] = true
		}
	}
	for c := range s.prev.Clusters {
		if _, ok := s.next.Clusters[c]; !ok {
			s.changed[c] = true
		}
	}
	return nil
}

// reusable reports whether a file may keep its remembered output.
func (s *shardRun) reusable(path, base string) (fileMemory, bool) {
	m, ok := s.prev.Files[path]
	if !ok || m.Base != base || intersects(m.Deps, s.changed) {
		return m, false
	}
	return m, true
}

// intersects reports whether any of deps is in set (anyCluster meets
// any non-empty set).
func intersects(deps []string, set map[string]bool) bool {
	for _, d := range deps {
		if set[d] || d == anyCluster && len(set) > 0 {
			return true
		}
	}
	return false
}

// reuse keeps a file's remembered output without reading it.
func (s *shardRun) reuse(path, base string, m fileMemory) {
	s.next.Files[path] = m
	if m.Out != "" {
		s.changes = append(s.changes, publish.Change{Path: path, BaseBlobSHA: base, BlobSHA: m.Out})
	}
}

// record stages a file's new output (nil: no file is proposed) and
// remembers it with its report.
func (s *shardRun) record(ctx context.Context, path, base string, baseContent, out []byte, rep registry.Report, deps []string) error {
	m := fileMemory{Base: base, Deps: deps, Changed: len(rep.Changed), Deleted: len(rep.Deleted), Missing: len(rep.Missing)}
	m.NotReady, m.Clusters = reportClusters(rep)
	m.Section = FileSection(path, rep, base == "" && out != nil)
	if out != nil {
		c := publish.Change{Path: path, BaseBlobSHA: base, Content: out, BlobSHA: publish.BlobSHA(out), Base: baseContent}
		m.Out = c.BlobSHA
		var err error
		if c, err = s.pub.Stage(ctx, c); err != nil {
			return err
		}
		s.changes = append(s.changes, c)
	}
	s.next.Files[path] = m
	return nil
}

// template reconciles one file per cluster, reading, editing and staging
// one file at a time.
func (s *shardRun) template(ctx context.Context, files []publish.File) error {
	have := map[string]bool{}
	for _, fl := range files {
		c, _ := s.pat.Match(fl.Path)
		have[c] = true
		if m, ok := s.reusable(fl.Path, fl.BlobSHA); ok {
			s.reuse(fl.Path, fl.BlobSHA, m)
			continue
		}
		content, blob, err := s.pub.Read(ctx, s.head, fl.Path, fl.BlobSHA)
		if err != nil {
			return fmt.Errorf("read registry: %w", err)
		}
		recs, err := s.f.opts.Store.ClusterRecords(ctx, c)
		if err != nil {
			return err
		}
		out, rep, err := registry.Apply(content, recs, s.f.opts.Registry)
		if err != nil {
			return fmt.Errorf("registry %s at %s: %w", fl.Path, short(s.head.SHA), err)
		}
		if err := s.record(ctx, fl.Path, blob, content, out, rep, []string{c}); err != nil {
			return err
		}
	}
	for _, c := range s.clusters {
		path := s.pat.FileFor(c)
		if have[c] {
			continue
		}
		if m, ok := s.reusable(path, ""); ok && (m.Out != "") == s.f.opts.Registry.AddMissing {
			s.reuse(path, "", m)
			continue
		}
		recs, err := s.f.opts.Store.ClusterRecords(ctx, c)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(recs, func(r status.Record) bool { return !r.Deleted }) {
			continue // nothing to add for a cluster whose claims are all deleted
		}
		if !s.f.opts.Registry.AddMissing {
			var rep registry.Report
			for _, r := range recs {
				if !r.Deleted {
					rep.Missing = append(rep.Missing, registry.MissingClaim{Record: r})
				}
			}
			if err := s.record(ctx, path, "", nil, nil, rep, []string{c}); err != nil {
				return err
			}
			continue
		}
		example, err := s.exampleFile(ctx, files)
		if err != nil {
			return err
		}
		out, rep, err := registry.NewFile(example, c, recs)
		if err != nil {
			return fmt.Errorf("registry %s: %w", path, err)
		}
		if err := s.record(ctx, path, "", nil, out, rep, []string{c}); err != nil {
			return err
		}
	}
	return nil
}

// exampleFile is the smallest existing file, whose style a new file
// copies; nil when there is none (the new file gets the default style).
func (s *shardRun) exampleFile(ctx context.Context, files []publish.File) ([]byte, error) {
	if s.example != nil || len(files) == 0 {
		return s.example, nil
	}
	small := files[0]
	for _, fl := range files {
		if fl.Size < small.Size {
			small = fl
		}
	}
	content, _, err := s.pub.Read(ctx, s.head, small.Path, small.BlobSHA)
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	s.example = content
	return content, nil
}

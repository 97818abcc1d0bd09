// Package registry applies collected claim statuses to the central
// registry file, editing the YAML text in place so that the pull request
// diff shows exactly the claims whose status changed.
//
// Two layouts are detected automatically (see DESIGN.md, "Registry file"):
// the seed's clusters map (cluster -> list of entries) and the
// ClaimRegistry (`kind: ClaimRegistry`, a `claims:` list, status kept per
// cluster on each entry). The file is parsed with yaml.v3 only to find
// where things are; the output is the original bytes with scalar values
// replaced and lines inserted or removed, so comments, quoting, key order,
// blank lines, indentation, document markers and line endings survive.
//
// A file with several YAML documents: the layout is that of the first
// document that has one, and every document of that layout is edited as
// if they were one registry (new clusters and claims go to the first);
// documents without a layout, such as an empty one after a final "---",
// are left alone, and a document of the other layout is an error.
//
// Deleted claims only mark status already in the file (`deleted: true`,
// keeping the last message); they never create entries or status maps,
// and are not listed as missing.
//
// Constructs the editor does not write into (a new key inside a
// non-empty flow mapping) fail with ErrUnsupported and the line, rather
// than producing a surprising diff. Anchors, aliases and merge keys are
// read as any YAML reader reads them (see alias.go): an entry whose status
// an alias shares is left as written and named in Report.Notes.
//
// A large file is read and edited a section at a time, so memory does not
// grow with yaml.v3's node tree of the whole file (see sections.go).
package registry

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// Options tune Apply.
type Options struct {
	// AddMissing appends claims the registry does not know, in the style
	// of the file's existing entries (REGISTRY_ADD_MISSING=true).
	AddMissing bool
}

// Report says what Apply did, for the pull request body.
type Report struct {
	// Layout is LayoutClusters or LayoutClaimRegistry.
	Layout string
	// Changed lists entries whose status changed, deletions excepted
	// (those are in Deleted), sorted by cluster, claim and kind. A claim
	// that reappears after a deletion is here, with Old "deleted".
	Changed []Change
	// Missing lists claims seen in a cluster but absent from the
	// registry, sorted by cluster, claim and kind; with AddMissing the ones
	// appended have Added set. Deleted claims are never listed: there is
	// nothing to add for them.
	Missing []MissingClaim
	// Deleted lists claims deleted from their cluster whose entry changed
	// (New is "deleted"), sorted like Changed.
	Deleted []Change
	// Notes explain entries this run wrote or left for a reason a reader
	// of the file would not guess: an entry matched by namespace and name
	// although its claimRef names something else, or a claim's status
	// not written because another entry reads the value through an alias.
	// Sorted by cluster, claim, kind and line.
	Notes []Note
}

// Note is one remark on the entry at Line for a claim.
type Note struct {
	Cluster, ClaimRef, Kind string
	Line                    int
	Text                    string
}

// Change is one entry's status moving from Old to New. Old and New are
// short human texts: "True: Available" (ready and message), the message
// alone when no ready state is known, "deleted", or "" for none. Reason
// is the record's reason (e.g. "ReconcileError"), "" when it has none.
type Change struct {
	Cluster, ClaimRef, Kind, Old, New string
	Reason                            string
}

// MissingClaim is a record whose claim has no entry in the registry. The
// record's fields are promoted, so m.Cluster and m.ClaimRef work as on a
// status.Record.
type MissingClaim struct {
	status.Record
	// Added is true when Options.AddMissing appended an entry for it.
	Added bool
}

// Apply returns src with the status of every record written into the
// registry, and a report of the changes. src is never modified. records
// are the whole desired state for all clusters (level-triggered): claims
// in the file without a record are left untouched, and when two records
// share cluster, claimRef and kind the later one in the slice wins.
//
// Matching: in the clusters layout an entry under the record's cluster
// key matches by namespace + name when it has both (its claimRef is then
// left as written, and noted in the report when it names another claim
// and the entry changed), else by claimRef; in a ClaimRegistry an entry matches by namespace + name and
// keeps the status per cluster under `clusters:`. When a record and an
// entry both carry a kind they must agree (an entry's kind may leave out
// the group). A claim fitting two entries equally well is an error.
//
// A status changes when the message, the ready state (where the entry
// records one) or the deleted flag differs; only then are the values and
// lastCheckedAt (set to the record's observedAt) rewritten. Applying the
// same records to the output again returns it byte for byte with no
// Changed or Deleted entries, so a quiet fleet yields no diff.
//
// Errors are *Error values naming the line: invalid YAML, neither layout,
// an ambiguous match, or a construct the editor does not write into.
func Apply(src []byte, records []status.Record, opts Options) ([]byte, Report, error) {
	return apply(src, records, opts, sectionSize)
}

// apply is Apply reading the file in sections of about section bytes
// where it can (sections.go), whole when section is 0.
func apply(src []byte, records []status.Record, opts Options, section int) ([]byte, Report, error) {
	s := yamlsrc.New(src)
	if section > 0 {
		if out, rep, ok := applySections(s, records, opts, section); ok {
			return out, rep, nil
		}
	}
	docs, err := parseSource(s)
	if err != nil {
		return nil, Report{}, err
	}
	layout, parts, err := detect(s, docs)
	if err != nil {
		return nil, Report{}, err
	}
	p := &planner{s: s, opts: opts, layout: layout, docs: parts, shared: sharedNodes(src, docs)}
	p.rep.Layout = layout
	recs := p.normalize(records)
	if layout == LayoutClusters {
		err = p.planClusters(recs)
	} else {
		err = p.planClaimRegistry(recs)
	}
	if err != nil {
		return nil, Report{}, sourceError(err)
	}
	out, err := p.ed.Apply(src)
	if err != nil {
		return nil, Report{}, &Error{Msg: err.Error()}
	}
	p.sortReport()
	return out, p.rep, nil
}

// planner holds one Apply run: the source, the edits gathered so far and
// the report.
type planner struct {
	s      *yamlsrc.Source
	ed     yamlsrc.Editor
	opts   Options
	layout string
	docs   []document
	guide  guide
	rep    Report
	shared map[*yaml.Node]bool // nodes an alias reads (sharedNodes)
}

// rec is a record prepared for matching: strings made valid UTF-8 (the
// file can hold nothing else, and a value that cannot round-trip would
// show as changed on every run) and the claimRef split.
//
// A large fleet has a rec per claim, so it holds only what sorting needs;
// the rest is read from the record when written (valid returns a valid
// string itself, without copying).
type rec struct {
	r                       *status.Record
	cluster, ns, name, kind string
	missing                 int32 // index in Report.Missing, -1 when matched
	deleted                 bool
	anyCluster              bool // matched on namespace and name alone (ClaimRegistry), see id
}

// ref is the record's claimRef.
func (x *rec) ref() string { return valid(x.r.ClaimRef) }

// msg is the record's status message.
func (x *rec) msg() string { return valid(x.r.StatusMessage) }

// ready is the record's ready state.
func (x *rec) ready() string { return valid(x.r.Ready) }

// at is when the status was observed, else when it was received.
func (x *rec) at() string {
	if at := valid(x.r.ObservedAt); at != "" {
		return at
	}
	return valid(x.r.ReceivedAt)
}

func valid(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// normalize prepares records: duplicates (same cluster, claimRef and
// kind) collapse to the last one, a kind-less record beside a kinded one
// of its claim goes, and records without cluster, namespace
// or name go straight to Missing (they can match nothing). Each layout
// sorts the rest the way it groups them.
func (p *planner) normalize(records []status.Record) []*rec {
	type key struct{ cluster, ref, kind string }
	pos := make(map[key]int, len(records))
	out := make([]*rec, 0, len(records))
	all := make([]rec, len(records))
	for i := range records {
		r := &records[i]
		x := &all[i]
		*x = rec{r: r, cluster: valid(r.Cluster), kind: valid(r.Kind), deleted: r.Deleted, missing: -1}
		ref := x.ref()
		x.ns, x.name, _ = strings.Cut(ref, "/")
		k := key{x.cluster, ref, x.kind}
		if j, dup := pos[k]; dup {
			out[j] = x
			continue
		}
		pos[k] = len(out)
		out = append(out, x)
	}
	// One claim in one cluster is one record: a kind-less record beside
	// a kinded one of the same claim (stored before the store enforced
	// it) is the same claim seen by the seed's informer; the kinded one
	// speaks for it.
	kinded := map[key]bool{}
	for _, x := range out {
		if x.kind != "" {
			kinded[key{x.cluster, x.ref(), ""}] = true
		}
	}
	kept := out[:0]
	for _, x := range out {
		if x.kind == "" && kinded[key{x.cluster, x.ref(), ""}] {
			continue
		}
		if x.cluster == "" || x.ns == "" || x.name == "" {
			if !x.deleted {
				p.missing(x)
			}
			continue
		}
		kept = append(kept, x)
	}
	return kept
}

// id is what the layout matches x on. Computed, not stored: a large
// fleet has a rec per claim, and every byte of it counts.
func (x *rec) id() ident {
	if x.anyCluster {
		return ident{ns: x.ns, name: x.name}
	}
	return ident{x.cluster, x.ns, x.name}
}

// missing lists x as not in the registry.
func (p *planner) missing(x *rec) {
	x.missing = int32(len(p.rep.Missing))
	p.rep.Missing = append(p.rep.Missing, MissingClaim{Record: *x.r})
}

// added marks x, listed as missing, as appended.
func (p *planner) added(x *rec) {
	if x.missing >= 0 {
		p.rep.Missing[x.missing].Added = true
	}
}

// change reports the status of x's entry moving from old to new.
func (p *planner) change(x *rec, old, new string) {
	c := Change{Cluster: x.r.Cluster, ClaimRef: x.r.ClaimRef, Kind: x.r.Kind, Old: old, New: new, Reason: x.r.Reason}
	if x.deleted {
		p.rep.Deleted = append(p.rep.Deleted, c)
	} else {
		p.rep.Changed = append(p.rep.Changed, c)
	}
}

// note adds a remark on the entry at line for x.
func (p *planner) note(x *rec, line int, format string, args ...any) {
	p.rep.Notes = append(p.rep.Notes, Note{Cluster: x.r.Cluster, ClaimRef: x.r.ClaimRef, Kind: x.r.Kind, Line: line, Text: fmt.Sprintf(format, args...)})
}

func (p *planner) sortReport() {
	byChange := func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.ClaimRef, b.ClaimRef), cmp.Compare(a.Kind, b.Kind))
	}
	slices.SortStableFunc(p.rep.Changed, byChange)
	slices.SortStableFunc(p.rep.Deleted, byChange)
	slices.SortStableFunc(p.rep.Missing, func(a, b MissingClaim) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.ClaimRef, b.ClaimRef), cmp.Compare(a.Kind, b.Kind))
	})
	slices.SortStableFunc(p.rep.Notes, func(a, b Note) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.ClaimRef, b.ClaimRef), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Line, b.Line))
	})
}

// statusText is the short human form of a status used in Change.
func statusText(ready, msg string, deleted bool) string {
	switch {
	case deleted:
		return "deleted"
	case ready == "":
		return msg
	case msg == "":
		return ready
	}
	return ready + ": " + msg
}

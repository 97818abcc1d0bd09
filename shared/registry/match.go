package registry

import (
	"slices"
	"strings"
)

// ident is what entries and records are matched on: namespace and name,
// plus the cluster in the clusters layout (an entry there belongs to one
// cluster). The kind is matched inside a group, see assign.
type ident struct {
	cluster, ns, name string
}

// entry is a registry entry that can take a claim's status.
type entry struct {
	f     *fields
	kind  string
	line  int
	taken bool
	next  *entry // the next entry with the same identity, in file order
}

// slab hands out pointers to zeroed Ts from chunks, so the thousands of
// small objects a large registry needs cost a few allocations.
type slab[T any] struct{ chunk []T }

func (s *slab[T]) new() *T {
	if len(s.chunk) == cap(s.chunk) {
		s.chunk = make([]T, 0, 256)
	}
	s.chunk = s.chunk[:len(s.chunk)+1]
	return &s.chunk[len(s.chunk)-1]
}

// entryIndex finds the entries of an identity. Nearly every identity has
// one entry, so the map holds the first and the rest hang off it.
type entryIndex struct {
	first map[ident]*entry
	last  map[ident]*entry // only for identities with more than one entry
	slab  slab[entry]
}

func newEntryIndex(size int) *entryIndex {
	return &entryIndex{first: make(map[ident]*entry, size), last: map[ident]*entry{}}
}

// add records f, the entry on line line, under id. The same mapping met
// again under id (through an alias) is the same entry, not a second one.
func (x *entryIndex) add(id ident, f *fields, line int) {
	first, ok := x.first[id]
	for e := first; e != nil; e = e.next {
		if e.f.n == f.n {
			return
		}
	}
	e := x.slab.new()
	e.f, e.kind, e.line = f, f.kind(), line
	if !ok {
		x.first[id] = e
		return
	}
	tail := x.last[id]
	if tail == nil {
		tail = first
	}
	tail.next = e
	x.last[id] = e
}

// get appends the entries of id to buf, in file order.
func (x *entryIndex) get(id ident, buf []*entry) []*entry {
	for e := x.first[id]; e != nil; e = e.next {
		buf = append(buf, e)
	}
	return buf
}

// claim is one claim of a group: records of one namespace, name and kind.
// In the clusters layout a claim has one record; in a ClaimRegistry it has
// one per cluster, all written to the same entry.
type claim struct {
	kind     string
	recs     []*rec
	entry    *entry
	needKind bool // a new entry for it must say its kind to stay unambiguous
}

// kindScore rates how well a claim's kind fits an entry's kind:
// 3 the same (both empty, or equal), 2 the same Kind with the group given
// on only one side ("PostgreSQL" against "PostgreSQL.database.example.org"),
// 1 one side has no kind, 0 they disagree.
func kindScore(claimKind, entryKind string) int {
	switch {
	case claimKind == entryKind:
		return 3
	case claimKind == "" || entryKind == "":
		return 1
	}
	ck, _, cGroup := strings.Cut(claimKind, ".")
	ek, _, eGroup := strings.Cut(entryKind, ".")
	if ck != ek || cGroup && eGroup {
		return 0
	}
	return 2
}

// assign pairs the claims of one identity with its entries. Better kind
// fits are settled first; within a fit, claims go in their sorted order
// and each takes the one free entry that fits. A claim that finds two
// equally fitting free entries is ambiguous: an error naming both lines.
// A claim left without an entry is missing from the registry.
//
// The rule is chosen so that adding the missing claims (with their kind
// when there is any doubt) and applying again assigns every claim to the
// same entry as before: the second run is a no-op.
func assign(id ident, claims []*claim, entries []*entry) error {
	if len(entries) == 0 {
		return nil
	}
	for score := 3; score >= 1; score-- {
		for _, c := range claims {
			if c.entry != nil {
				continue
			}
			var hit *entry
			for _, e := range entries {
				if e.taken || kindScore(c.kind, e.kind) != score {
					continue
				}
				if hit != nil {
					where := ""
					if id.cluster != "" {
						where = " for cluster " + id.cluster
					} else if len(c.recs) > 0 {
						where = " for cluster " + c.recs[0].cluster
					}
					return errAt(e.line, ErrAmbiguous, "claim %s/%s%s%s matches two entries (lines %d and %d)", id.ns, id.name, kindSuffix(c.kind), where, hit.line, e.line)
				}
				hit = e
			}
			if hit != nil {
				c.entry, hit.taken = hit, true
			}
		}
	}
	return nil
}

func kindSuffix(kind string) string {
	if kind == "" {
		return ""
	}
	return " (kind " + kind + ")"
}

// matchClaims sorts recs and cuts them into groups of one identity
// (rec.id; anyCluster: the cluster does not count), each group into claims (runs of one kind), and pairs each
// group's claims with its entries. write gets every claim that found an
// entry; the live records of the others are listed as missing, and those
// claims are returned (in identity order) for AddMissing.
func (p *planner) matchClaims(recs []*rec, anyCluster bool, index *entryIndex, write func(*claim) error) ([]*claim, error) {
	for _, x := range recs {
		x.anyCluster = anyCluster
	}
	slices.SortFunc(recs, compareRecs)
	var (
		adds      []*claim
		claims    []*claim
		entries   []*entry
		claimSlab slab[claim]
	)
	for i := 0; i < len(recs); {
		id := recs[i].id()
		claims = claims[:0]
		for i < len(recs) && recs[i].id() == id {
			start, kind := i, recs[i].kind
			for i < len(recs) && recs[i].id() == id && recs[i].kind == kind {
				i++
			}
			c := claimSlab.new()
			c.kind, c.recs = kind, recs[start:i]
			claims = append(claims, c)
		}
		entries = index.get(id, entries[:0])
		if err := assign(id, claims, entries); err != nil {
			return nil, err
		}
		for _, c := range claims {
			if c.entry != nil {
				if err := write(c); err != nil {
					return nil, err
				}
				continue
			}
			live := false
			for _, x := range c.recs {
				if !x.deleted {
					p.missing(x)
					live = true
				}
			}
			if live {
				c.needKind = c.kind != "" && (len(claims) > 1 || len(entries) > 0)
				adds = append(adds, c)
			}
		}
	}
	return adds, nil
}

// compareRecs orders records by identity, kind and cluster, so a group
// and each claim in it are runs. It stops at the first difference (a
// cmp.Or over all five comparisons would always make all five).
func compareRecs(a, b *rec) int {
	if !a.anyCluster { // all records of one sort share the flag
		if c := strings.Compare(a.cluster, b.cluster); c != 0 {
			return c
		}
	}
	if c := strings.Compare(a.ns, b.ns); c != 0 {
		return c
	}
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	if c := strings.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	return strings.Compare(a.cluster, b.cluster)
}

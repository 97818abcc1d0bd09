package registry

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// The property: for random registries and random records, the lines that
// differ between input and output are exactly the lines holding a
// changed value (or a removed `deleted` flag), and the lines added are
// exactly those replacements plus the inserted keys and entries.

// pSlot is one generated cluster status with the lines its values sit on.
type pSlot struct {
	cluster, msg, ready string
	hasReady, deleted   bool
	msgLine, readyLine  int
	atLine, delLine     int
}

type pEntry struct {
	ns, name     string
	slots        []*pSlot // one in the clusters layout
	clustersLine int      // ClaimRegistry: line of the clusters: key, -1 without one
}

type pGen struct {
	r            *rand.Rand
	lines        []string
	registry     bool
	unit, dash   int // indentation step; '-' column of entry lists
	keyCol       int // entry keys' column
	withReady    bool
	entries      []*pEntry
	clusterNames []string
}

var pMessages = []string{
	"Available", "Creating", "Ready=True", "Ready=False", "cannot apply: quota exceeded",
	"a # not a comment", "true", "123", "it's here", "line one\nline two", "Bereit ✓",
	"tab\there", `quote " and \ backslash`, "- leading dash", "trailing space ",
}

func (g *pGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// scalar writes v in a random style it is safe in; the test relies on the
// generator's own quoting, not on the package's.
func (g *pGen) scalar(v string) string {
	plainSafe := v == "Available" || v == "Creating" || v == "Ready=True" || v == "Ready=False" || v == "Bereit ✓"
	switch n := g.r.IntN(3); {
	case n == 0 && plainSafe:
		return v
	case n <= 1 && !strings.ContainsAny(v, "\n\t"):
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return strconv.Quote(v)
}

func (g *pGen) comment() string {
	if g.r.IntN(4) == 0 {
		return " # note " + strconv.Itoa(g.r.IntN(100))
	}
	return ""
}

func (g *pGen) add(col int, text string) int {
	g.lines = append(g.lines, strings.Repeat(" ", col)+text)
	return len(g.lines) - 1
}

func (g *pGen) maybeNoise(col int) {
	switch g.r.IntN(6) {
	case 0:
		g.add(0, "")
	case 1:
		g.add(col, "# a comment line")
	}
}

// slot writes a status map's fields at column col.
func (g *pGen) slot(s *pSlot, col int) {
	s.msgLine = g.add(col, "statusMessage: "+g.scalar(s.msg)+g.comment())
	if s.hasReady {
		s.readyLine = g.add(col, "ready: "+g.scalar(s.ready)+g.comment())
	}
	s.atLine = g.add(col, `lastCheckedAt: "2025-0`+strconv.Itoa(1+g.r.IntN(9))+`-01T00:00:00Z"`+g.comment())
	if s.deleted {
		s.delLine = g.add(col, "deleted: true")
	}
}

func (g *pGen) newSlot(cluster string) *pSlot {
	return &pSlot{cluster: cluster, msg: g.pick(pMessages), ready: g.pick([]string{"True", "False", "Unknown"}),
		hasReady: g.withReady, deleted: g.r.IntN(6) == 0, msgLine: -1, readyLine: -1, atLine: -1, delLine: -1}
}

func (g *pGen) item(first string) {
	g.add(g.dash, "-"+strings.Repeat(" ", g.keyCol-g.dash-1)+first)
}

func genRegistry(r *rand.Rand) *pGen {
	g := &pGen{r: r, registry: r.IntN(2) == 0, unit: 2 + 2*r.IntN(2), withReady: r.IntN(2) == 0}
	for i := range 1 + r.IntN(4) {
		g.clusterNames = append(g.clusterNames, "cluster-"+strconv.Itoa(i))
	}
	if r.IntN(2) == 0 {
		g.add(0, "# registry header")
	}
	if g.registry {
		g.add(0, "apiVersion: claim-registry.io/v1alpha1")
		g.add(0, "kind: ClaimRegistry")
		g.add(0, "claims:")
		g.dash = g.unit * r.IntN(2)
		g.keyCol = g.dash + 2
		for i := range 1 + r.IntN(8) {
			e := &pEntry{ns: "ns" + strconv.Itoa(i%3), name: "claim-" + strconv.Itoa(i), clustersLine: -1}
			g.entries = append(g.entries, e)
			g.maybeNoise(g.keyCol)
			g.item("name: " + g.scalar(e.name))
			g.add(g.keyCol, "namespace: "+e.ns)
			g.add(g.keyCol, "status: active"+g.comment())
			if r.IntN(4) == 0 {
				continue
			}
			e.clustersLine = g.add(g.keyCol, "clusters:")
			for _, c := range g.clusterNames {
				if r.IntN(3) == 0 {
					continue
				}
				s := g.newSlot(c)
				e.slots = append(e.slots, s)
				g.add(g.keyCol+g.unit, c+":")
				g.slot(s, g.keyCol+2*g.unit)
			}
			if len(e.slots) == 0 {
				g.lines[len(g.lines)-1] += " {}"
			}
		}
		return g
	}
	g.dash = g.unit * r.IntN(2)
	g.keyCol = g.dash + 2 + 2*r.IntN(2)
	for ci, c := range g.clusterNames {
		g.maybeNoise(0)
		g.add(0, c+":")
		for i := range r.IntN(5) {
			e := &pEntry{ns: "ns" + strconv.Itoa(i%2), name: "claim-" + strconv.Itoa(ci) + "-" + strconv.Itoa(i)}
			s := g.newSlot(c)
			e.slots = []*pSlot{s}
			g.entries = append(g.entries, e)
			g.maybeNoise(g.keyCol)
			g.item("name: " + e.name)
			g.add(g.keyCol, "namespace: "+e.ns)
			g.add(g.keyCol, "claimRef: "+e.ns+"/"+e.name)
			g.slot(s, g.keyCol)
		}
		if len(g.lines[len(g.lines)-1]) == len(c)+1 {
			g.lines[len(g.lines)-1] += " []"
		}
	}
	return g
}

// expectation is what Apply must do to the generated file.
type expectation struct {
	changed  map[int]bool    // old lines replaced or removed
	replaced int             // how many of them are replaced (not removed)
	inserted int             // lines inserted
	changes  int             // entries in Changed + Deleted
	moved    map[string]bool // cluster|claimRef whose lastCheckedAt moves
}

func (x *expectation) replace(line int) {
	if line >= 0 && !x.changed[line] {
		x.changed[line] = true
		x.replaced++
	}
}

// genRecords draws records for the generated registry and works out the
// expected edit.
func genRecords(g *pGen, addMissing bool) ([]status.Record, expectation) {
	r := g.r
	x := expectation{changed: map[int]bool{}, moved: map[string]bool{}}
	var recs []status.Record
	statusLines := 3 // ready, statusMessage, lastCheckedAt of a new status map
	for _, e := range g.entries {
		ref := e.ns + "/" + e.name
		var fresh []string // ClaimRegistry: clusters without a status map yet
		for _, c := range g.clusterNames {
			var s *pSlot
			for _, cand := range e.slots {
				if cand.cluster == c {
					s = cand
				}
			}
			if s == nil {
				if g.registry && r.IntN(3) == 0 {
					recs = append(recs, mkrec(c, ref, "True", g.pick(pMessages)))
					fresh = append(fresh, c)
					x.moved[c+"|"+ref] = true
				}
				continue
			}
			rc := mkrec(c, ref, s.ready, s.msg)
			switch r.IntN(6) {
			case 0:
				continue // no record: left alone
			case 1:
				rc.StatusMessage = g.pick(pMessages)
			case 2:
				rc.Ready = g.pick([]string{"True", "False", "Unknown"})
			case 3:
				rc.Deleted = true
			}
			recs = append(recs, rc)
			switch {
			case rc.Deleted && s.deleted:
			case rc.Deleted:
				x.inserted++
				x.replace(s.atLine)
				x.changes++
				x.moved[c+"|"+ref] = true
			default:
				msg := rc.StatusMessage != s.msg
				ready := s.hasReady && rc.Ready != s.ready || !s.hasReady && g.registry
				if !msg && !ready && !s.deleted {
					continue
				}
				if msg {
					x.replace(s.msgLine)
				}
				if ready && s.hasReady {
					x.replace(s.readyLine)
				} else if ready {
					x.inserted++
				}
				if s.deleted {
					x.changed[s.delLine] = true
				}
				x.replace(s.atLine)
				x.changes++
				x.moved[c+"|"+ref] = true
			}
		}
		if len(fresh) > 0 {
			x.inserted += len(fresh) * (1 + statusLines)
			switch {
			case e.clustersLine < 0:
				x.inserted++ // the clusters: key
			case len(e.slots) == 0:
				x.replace(e.clustersLine) // "clusters: {}" becomes "clusters:"
			}
			x.changes += len(fresh)
		}
	}
	// Claims the registry does not know.
	for i := range r.IntN(3) {
		c := g.clusterNames[r.IntN(len(g.clusterNames))]
		if r.IntN(3) == 0 {
			c = "cluster-new"
		}
		ref := "new/claim-" + strconv.Itoa(i)
		recs = append(recs, mkrec(c, ref, "True", g.pick(pMessages)))
		x.moved[c+"|"+ref] = true
	}
	if addMissing {
		n, lists := expectedAdded(g, recs)
		x.inserted += n
		for _, l := range lists {
			x.replace(l)
		}
	}
	r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	return recs, x
}

// expectedAdded counts the lines AddMissing inserts for the new claims,
// and returns the lines of empty lists ("cluster: []") it rewrites.
func expectedAdded(g *pGen, recs []status.Record) (int, []int) {
	n := 0
	newClusters := map[string]bool{}
	emptyLists := map[string]int{}
	for _, rc := range recs {
		if !strings.HasPrefix(rc.ClaimRef, "new/") {
			continue
		}
		if g.registry {
			n += 3 + 4 // name, namespace, clusters:, then cluster key + 3 status lines
			continue
		}
		fields := 5 // name, namespace, claimRef, statusMessage, lastCheckedAt
		if g.withReady && len(g.entries) > 0 {
			fields++ // new entries copy the existing ones' ready key
		}
		n += fields
		if !slices.Contains(g.clusterNames, rc.Cluster) && !newClusters[rc.Cluster] {
			newClusters[rc.Cluster] = true
			n++ // the cluster key
		}
		for i, l := range g.lines {
			if l == rc.Cluster+": []" {
				emptyLists[rc.Cluster] = i
			}
		}
	}
	var lines []int
	for _, l := range emptyLists {
		lines = append(lines, l)
	}
	return n, lines
}

// isSubsequence reports whether a appears in b in order.
func isSubsequence(a, b []string) bool {
	i := 0
	for _, l := range b {
		if i < len(a) && a[i] == l {
			i++
		}
	}
	return i == len(a)
}

func TestApplyProperty(t *testing.T) {
	iterations := 400
	if testing.Short() {
		iterations = 60
	}
	for it := range iterations {
		r := rand.New(rand.NewPCG(20260201, uint64(it)))
		g := genRegistry(r)
		addMissing := r.IntN(2) == 0
		eol := "\n"
		if r.IntN(4) == 0 {
			eol = "\r\n"
		}
		src := strings.Join(g.lines, eol)
		if r.IntN(4) != 0 {
			src += eol
		}
		recs, want := genRecords(g, addMissing)
		if want.changed[-1] {
			delete(want.changed, -1)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("iteration %d (registry=%v addMissing=%v): %s\n--- input\n%s\n--- records\n%+v", it, g.registry, addMissing, fmt.Sprintf(format, args...), src, recs)
		}
		out, rep, err := applyBoth(t, []byte(src), recs, Options{AddMissing: addMissing})
		if err != nil {
			fail("Apply: %v", err)
		}
		mustParse(t, out)
		if got := len(rep.Changed) + len(rep.Deleted); got != want.changes {
			fail("%d changes reported, want %d: %+v\n--- output\n%s", got, want.changes, rep, out)
		}
		if eol == "\r\n" && strings.Count(string(out), "\n") != strings.Count(string(out), "\r\n") {
			fail("output mixes line endings\n--- output\n%q", out)
		}
		// Compare line contents: the file's last line gaining a line
		// break because lines were added after it is not a change.
		oldLines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
		newLines := strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n")
		// Identical lines make a diff's alignment ambiguous, so the
		// property is stated without one: the lines expected to stay
		// appear in the output in order, no longer run of lines is
		// common to both, and the output has exactly the expected number
		// of replacement and inserted lines besides.
		var kept []string
		for i, l := range oldLines {
			if !want.changed[i] {
				kept = append(kept, l)
			}
		}
		if !isSubsequence(kept, newLines) {
			fail("lines outside %v changed\n--- output\n%s", sortedKeys(want.changed), out)
		}
		if err := checkValues(out, g.registry, recs, addMissing, want.moved); err != nil {
			fail("%v\n--- output\n%s", err, out)
		}
		if got, wantN := len(newLines), len(kept)+want.replaced+want.inserted; got != wantN {
			fail("%d output lines, want %d (%d kept + %d replaced + %d inserted)\n--- output\n%s", got, wantN, len(kept), want.replaced, want.inserted, out)
		}
		again, rep2, err := applyBoth(t, out, recs, Options{AddMissing: addMissing})
		if err != nil || !bytes.Equal(again, out) || len(rep2.Changed)+len(rep2.Deleted) != 0 {
			fail("second Apply not a no-op: %v %+v\n--- output\n%s\n--- again\n%s", err, rep2, out, again)
		}
	}
}

// checkValues is an oracle independent of the package: it decodes out
// with yaml.v3 and checks every record's status where it must be.
func checkValues(out []byte, registry bool, recs []status.Record, addMissing bool, moved map[string]bool) error {
	var root map[string]any
	if err := yaml.Unmarshal(out, &root); err != nil {
		return err
	}
	for _, rc := range recs {
		ns, name, _ := strings.Cut(rc.ClaimRef, "/")
		var slot map[string]any
		if registry {
			claims, _ := root["claims"].([]any)
			for _, c := range claims {
				if m, _ := c.(map[string]any); m["namespace"] == ns && m["name"] == name {
					subs, _ := m["clusters"].(map[string]any)
					slot, _ = subs[rc.Cluster].(map[string]any)
				}
			}
		} else {
			list, _ := root[rc.Cluster].([]any)
			for _, c := range list {
				if m, _ := c.(map[string]any); m["claimRef"] == rc.ClaimRef {
					slot = m
				}
			}
		}
		isNew := strings.HasPrefix(rc.ClaimRef, "new/")
		if slot != nil && (slot["lastCheckedAt"] == rc.ObservedAt) != moved[rc.Cluster+"|"+rc.ClaimRef] {
			return fmt.Errorf("%s in %s: lastCheckedAt %v, should move: %v", rc.ClaimRef, rc.Cluster, slot["lastCheckedAt"], moved[rc.Cluster+"|"+rc.ClaimRef])
		}
		switch {
		case slot == nil && (rc.Deleted || isNew && !addMissing):
		case slot == nil:
			return fmt.Errorf("no status for %s in %s", rc.ClaimRef, rc.Cluster)
		case isNew && !addMissing:
			return fmt.Errorf("%s in %s added without AddMissing", rc.ClaimRef, rc.Cluster)
		case rc.Deleted:
			if slot["deleted"] != true {
				return fmt.Errorf("%s in %s: deleted = %v", rc.ClaimRef, rc.Cluster, slot["deleted"])
			}
		default:
			if slot["statusMessage"] != rc.StatusMessage || slot["deleted"] == true {
				return fmt.Errorf("%s in %s: statusMessage %q deleted %v, want %q", rc.ClaimRef, rc.Cluster, slot["statusMessage"], slot["deleted"], rc.StatusMessage)
			}
			if r, ok := slot["ready"]; ok && r != rc.Ready {
				return fmt.Errorf("%s in %s: ready %q, want %q", rc.ClaimRef, rc.Cluster, r, rc.Ready)
			}
		}
	}
	return nil
}

func sortedKeys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

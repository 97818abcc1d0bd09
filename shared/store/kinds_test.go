package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

const (
	kindPG  = "PostgreSQL.database.example.org"
	kindBkt = "Bucket.s3.example.org"
)

func kinded(k string) func(*status.Record) { return func(r *status.Record) { r.Kind = k } }

// storedKeys lists cluster's records as "key=message".
func storedKeys(t *testing.T, s *Store, cluster string) []string {
	t.Helper()
	recs, err := s.ClusterRecords(context.Background(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Key()+"="+r.StatusMessage)
	}
	return out
}

// TestKindRules walks one claim through kind-less and kinded posts: one
// claim in one cluster stays one record, and counts and the generation
// move exactly.
func TestKindRules(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	notReady := func(r *status.Record) { r.Ready = "False" }
	steps := []struct {
		name    string
		recs    []status.Record
		want    string // outcomes, or "ambiguous"
		wantGen int64
		stored  []string
		ready   int64
		nready  int64
	}{
		{"kind-less seed post", []status.Record{rec(t, "c", "ns/db", "seed", 1)}, "a", 1,
			[]string{"ns/db=seed"}, 1, 0},
		{"kinded record supersedes it", []status.Record{rec(t, "c", "ns/db", "agent", 2, kinded(kindPG), notReady)}, "a", 2,
			[]string{"ns/db#" + kindPG + "=agent"}, 0, 1},
		{"kind-less update applies to the one kind", []status.Record{rec(t, "c", "ns/db", "seed again", 3)}, "a", 3,
			[]string{"ns/db#" + kindPG + "=seed again"}, 1, 0},
		{"same content kind-less is unchanged", []status.Record{rec(t, "c", "ns/db", "seed again", 4)}, "u", 3,
			[]string{"ns/db#" + kindPG + "=seed again"}, 1, 0},
		{"same content kinded is unchanged", []status.Record{rec(t, "c", "ns/db", "seed again", 5, kinded(kindPG))}, "u", 3,
			[]string{"ns/db#" + kindPG + "=seed again"}, 1, 0},
		{"older kind-less is stale", []status.Record{rec(t, "c", "ns/db", "old", 1)}, "s", 3,
			[]string{"ns/db#" + kindPG + "=seed again"}, 1, 0},
		{"a second kind under the name", []status.Record{rec(t, "c", "ns/db", "bucket", 6, kinded(kindBkt))}, "a", 4,
			[]string{"ns/db#" + kindBkt + "=bucket", "ns/db#" + kindPG + "=seed again"}, 2, 0},
		{"kind-less is then ambiguous, batch refused whole", []status.Record{rec(t, "c", "ns/other", "x", 7), rec(t, "c", "ns/db", "which?", 7)}, "ambiguous", 4,
			[]string{"ns/db#" + kindBkt + "=bucket", "ns/db#" + kindPG + "=seed again"}, 2, 0},
		{"one batch: kind-less, then kinded, then kind-less", []status.Record{
			rec(t, "c", "ns/q", "first", 1), rec(t, "c", "ns/q", "kinded", 2, kinded(kindBkt)), rec(t, "c", "ns/q", "third", 3, notReady),
		}, "aaa", 5,
			[]string{"ns/db#" + kindBkt + "=bucket", "ns/db#" + kindPG + "=seed again", "ns/q#" + kindBkt + "=third"}, 2, 1},
	}
	for _, st := range steps {
		res, err := s.Apply(ctx, "2026-11-25T11:00:00Z", st.recs)
		var amb *AmbiguousKindError
		switch {
		case st.want == "ambiguous":
			if !errors.As(err, &amb) || amb.Index != 1 || amb.ClaimRef != "ns/db" || amb.Cluster != "c" || !slices.Equal(amb.Kinds, []string{kindPG, kindBkt}) {
				t.Fatalf("%s: err %v, want the ambiguity of item 1", st.name, err)
			}
			want := "kind: required: claim ns/db in cluster c has records of several kinds (" + kindPG + ", " + kindBkt + ")"
			if err.Error() != want {
				t.Fatalf("%s: %q, want %q", st.name, err, want)
			}
		case err != nil:
			t.Fatalf("%s: %v", st.name, err)
		case string(outcomes(res.Outcomes)) != st.want:
			t.Fatalf("%s: outcomes %q, want %q", st.name, outcomes(res.Outcomes), st.want)
		}
		if cur, _, _ := s.Generations(ctx); cur != st.wantGen {
			t.Fatalf("%s: generation %d, want %d", st.name, cur, st.wantGen)
		}
		if got := storedKeys(t, s, "c"); !slices.Equal(got, st.stored) {
			t.Fatalf("%s: stored %q, want %q", st.name, got, st.stored)
		}
		sums, err := s.Summaries(ctx)
		if err != nil || len(sums) != 1 || sums[0].Ready != st.ready || sums[0].NotReady != st.nready || sums[0].Deleted != 0 {
			t.Fatalf("%s: summaries %+v %v, want ready %d not ready %d", st.name, sums, err, st.ready, st.nready)
		}
	}
	recs, _ := s.ClusterRecords(ctx, "c")
	if recs[1].Kind != kindPG || recs[1].ClaimRef != "ns/db" {
		t.Errorf("a kind-less update applied to a kinded record must store its kind: %+v", recs[1])
	}
}

// A refused write merged with others fails alone; the others are stored.
func TestAmbiguousWriteFailsAloneInAMergedCall(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.Apply(ctx, "t", []status.Record{rec(t, "c", "ns/db", "a", 1, kinded(kindPG)), rec(t, "c", "ns/db", "b", 1, kinded(kindBkt))}); err != nil {
		t.Fatal(err)
	}
	mk := func(recs ...status.Record) *write {
		w := &write{receivedAt: "t"}
		for i := range recs {
			v, err := encodeValue(nil, &recs[i], recs[i].ObservedTime())
			if err != nil {
				t.Fatal(err)
			}
			w.items = append(w.items, item{cluster: recs[i].Cluster, key: recs[i].Key(), value: v})
		}
		return w
	}
	good1 := mk(rec(t, "c", "ns/x", "x", 2))
	bad := mk(rec(t, "d", "ns/y", "y", 2), rec(t, "c", "ns/db", "which", 2))
	good2 := mk(rec(t, "d", "ns/z", "z", 2), rec(t, "c", "ns/db", "kinded", 2, kinded(kindPG)))
	if err := s.send(ctx, []*write{good1, bad, good2}); err != nil {
		t.Fatal(err)
	}
	var amb *AmbiguousKindError
	if good1.err != nil || good2.err != nil || !errors.As(bad.err, &amb) || amb.Index != 1 {
		t.Fatalf("errors %v / %v / %v", good1.err, bad.err, good2.err)
	}
	if string(outcomes(good1.res.Outcomes)) != "a" || string(outcomes(good2.res.Outcomes)) != "aa" {
		t.Fatalf("outcomes %q %q", outcomes(good1.res.Outcomes), outcomes(good2.res.Outcomes))
	}
	if got := storedKeys(t, s, "d"); !slices.Equal(got, []string{"ns/z=z"}) {
		t.Fatalf("cluster d: %q (the refused write's other item must not be stored)", got)
	}
}

// Records stored before the kinds index existed: the first write into
// the cluster indexes it and drops kind-less records beside kinded ones,
// counts corrected; the kind-less rules hold from then on.
func TestKindsIndexBuiltForOldData(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	old := []status.Record{
		rec(t, "c", "default/my-db", "seed", 1),
		rec(t, "c", "default/my-db", "agent", 2, kinded(kindPG)),
		rec(t, "c", "default/alone", "seed only", 1),
	}
	// As the previous version wrote them: fields, values and counts.
	for _, r := range old {
		v, err := encodeValue(nil, &r, r.ObservedTime())
		if err != nil {
			t.Fatal(err)
		}
		s.rdb.HSet(ctx, s.k.claims("c"), r.Key(), v)
	}
	s.rdb.HSet(ctx, s.k.counts("c"), "R", 3)
	s.rdb.HSet(ctx, s.k.clusters(), "c", "t")
	res, err := s.Apply(ctx, "t", []status.Record{rec(t, "c", "default/alone", "seed only", 5)})
	if err != nil || string(outcomes(res.Outcomes)) != "u" {
		t.Fatalf("%+v %v", res, err)
	}
	if got := storedKeys(t, s, "c"); !slices.Equal(got, []string{"default/alone=seed only", "default/my-db#" + kindPG + "=agent"}) {
		t.Fatalf("stored %q", got)
	}
	if sums, _ := s.Summaries(ctx); sums[0].Ready != 2 {
		t.Fatalf("counts %+v, want 2 ready", sums)
	}
	if cur, _, _ := s.Generations(ctx); cur != 1 {
		t.Fatalf("generation %d: dropping the duplicate is a change", cur)
	}
	if _, err := s.Apply(ctx, "t", []status.Record{rec(t, "c", "default/my-db", "seed 2", 6)}); err != nil {
		t.Fatal(err)
	}
	if got := storedKeys(t, s, "c"); !slices.Equal(got, []string{"default/alone=seed only", "default/my-db#" + kindPG + "=seed 2"}) {
		t.Fatalf("stored %q", got)
	}
}

// TestKindRulesProperty applies random batches of kinded and kind-less
// records for a few claims and checks, after each batch, the store
// against a model of the rules: same records, counts equal to the
// records' states, the generation moved exactly when something was
// accepted, and never a kind-less record beside a kinded one.
func TestKindRulesProperty(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	rng := rand.New(rand.NewPCG(12, 1))
	kinds := []string{"", "", kindPG, kindBkt}
	refs := []string{"ns/a", "ns/b", "ns/c"}
	clusters := []string{"c1", "c2"}
	model := map[string]map[string]status.Record{"c1": {}, "c2": {}}
	var gen int64
	for step := range 300 {
		var batch []status.Record
		cluster := clusters[rng.IntN(2)]
		for range 1 + rng.IntN(4) {
			r := rec(t, cluster, refs[rng.IntN(len(refs))], fmt.Sprintf("m%d", rng.IntN(3)), rng.IntN(40), kinded(kinds[rng.IntN(len(kinds))]), func(r *status.Record) {
				r.Ready = []string{"True", "False", "Unknown"}[rng.IntN(3)]
				r.Deleted = rng.IntN(5) == 0
			})
			batch = append(batch, r)
		}
		next, wantOut, ambiguous := modelApply(model[cluster], batch)
		res, err := s.Apply(ctx, "t", batch)
		var amb *AmbiguousKindError
		if ambiguous >= 0 {
			if !errors.As(err, &amb) || amb.Index != ambiguous {
				t.Fatalf("step %d: %v, want item %d ambiguous (batch %+v)", step, err, ambiguous, batch)
			}
		} else {
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			model[cluster] = next
			if got := string(outcomes(res.Outcomes)); got != wantOut {
				t.Fatalf("step %d: outcomes %q, model %q", step, got, wantOut)
			}
			if res.Accepted > 0 {
				gen++
			}
		}
		if cur, _, _ := s.Generations(ctx); cur != gen {
			t.Fatalf("step %d: generation %d, want %d", step, cur, gen)
		}
		checkAgainstModel(t, s, step, model)
	}
}

// modelApply is the rules in plain Go: the records of one cluster after
// batch, the outcomes, and the first ambiguous item (-1 when none).
func modelApply(cur map[string]status.Record, batch []status.Record) (map[string]status.Record, string, int) {
	m := make(map[string]status.Record, len(cur))
	for k, v := range cur {
		m[k] = v
	}
	var out []byte
	for i, r := range batch {
		var ks []string
		for k, v := range m {
			if v.ClaimRef == r.ClaimRef && v.Kind != "" {
				ks = append(ks, k)
			}
		}
		if r.Kind != "" {
			delete(m, r.ClaimRef)
		} else if len(ks) > 1 {
			return nil, "", i
		} else if len(ks) == 1 {
			r.Kind = m[ks[0]].Kind
		}
		old, ok := m[r.Key()]
		o := byte('a')
		if ok && (old.UID == "" || r.UID == "" || old.UID == r.UID) {
			switch {
			case r.ObservedTime().Before(old.ObservedTime()) || r.ObservedTime().Equal(old.ObservedTime()) && r.Generation < old.Generation:
				o = 's'
			case contentHash(&r) == contentHash(&old):
				o = 'u'
			}
		}
		if o != 's' {
			m[r.Key()] = r
		}
		out = append(out, o)
	}
	return m, string(out), -1
}

func checkAgainstModel(t *testing.T, s *Store, step int, model map[string]map[string]status.Record) {
	t.Helper()
	sums, err := s.Summaries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, sum := range sums {
		recs, err := s.ClusterRecords(context.Background(), sum.Cluster)
		if err != nil {
			t.Fatal(err)
		}
		var want []status.Record
		var ready, notReady, del int64
		for _, r := range model[sum.Cluster] {
			want = append(want, r)
		}
		slices.SortFunc(want, func(a, b status.Record) int { return strings.Compare(a.Key(), b.Key()) })
		for _, r := range recs {
			switch r.State() {
			case 'R':
				ready++
			case 'N':
				notReady++
			case 'D':
				del++
			}
		}
		g, _ := json.Marshal(recs)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Fatalf("step %d cluster %s:\nstored %s\nmodel  %s", step, sum.Cluster, g, w)
		}
		if sum.Ready != ready || sum.NotReady != notReady || sum.Deleted != del {
			t.Fatalf("step %d cluster %s: counts %+v, records say %d/%d/%d", step, sum.Cluster, sum, ready, notReady, del)
		}
	}
}

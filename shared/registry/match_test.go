package registry

import (
	"errors"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestKindScore(t *testing.T) {
	cases := []struct {
		claim, entry string
		want         int
	}{
		{"", "", 3},
		{"PostgreSQL.db.io", "PostgreSQL.db.io", 3},
		{"PostgreSQL.db.io", "PostgreSQL", 2},
		{"PostgreSQL", "PostgreSQL.db.io", 2},
		{"PostgreSQL.db.io", "", 1},
		{"", "PostgreSQL", 1},
		{"PostgreSQL.db.io", "PostgreSQL.other.io", 0},
		{"PostgreSQL.db.io", "Bucket", 0},
		{"PostgreSQL", "MySQL", 0},
	}
	for _, tc := range cases {
		if got := kindScore(tc.claim, tc.entry); got != tc.want {
			t.Errorf("kindScore(%q, %q) = %d, want %d", tc.claim, tc.entry, got, tc.want)
		}
	}
}

func entries(kinds ...string) []*entry {
	var es []*entry
	for i, k := range kinds {
		es = append(es, &entry{kind: k, line: 10 * (i + 1)})
	}
	return es
}

func claims(kinds ...string) []*claim {
	var cs []*claim
	for _, k := range kinds {
		cs = append(cs, &claim{kind: k})
	}
	return cs
}

func TestAssign(t *testing.T) {
	cases := []struct {
		name    string
		claims  []string
		entries []string
		want    []int // index of the entry each claim gets, -1 for none
	}{
		{"one to one", []string{""}, []string{""}, []int{0}},
		{"kind fits kindless entry", []string{"A.g"}, []string{""}, []int{0}},
		{"exact before loose", []string{"", "A.g"}, []string{"A.g", ""}, []int{1, 0}},
		{"short kind", []string{"A.g", "B.g"}, []string{"B", "A"}, []int{1, 0}},
		{"mismatch is missing", []string{"A.g"}, []string{"B.g"}, []int{-1}},
		{"second claim for one entry is missing", []string{"A.g", "B.g"}, []string{""}, []int{0, -1}},
		{"kindless claim loses to kinded", []string{"", "A.g"}, []string{"A.g"}, []int{-1, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs, es := claims(tc.claims...), entries(tc.entries...)
			if err := assign(ident{cluster: "c", ns: "d", name: "x"}, cs, es); err != nil {
				t.Fatal(err)
			}
			for i, c := range cs {
				got := -1
				for j, e := range es {
					if c.entry == e {
						got = j
					}
				}
				if got != tc.want[i] {
					t.Errorf("claim %d (%q) got entry %d, want %d", i, c.kind, got, tc.want[i])
				}
			}
		})
	}
}

func TestAssignAmbiguous(t *testing.T) {
	err := assign(ident{cluster: "c", ns: "d", name: "x"}, claims(""), entries("A.g", "B.g"))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrAmbiguous) || e.Line != 20 {
		t.Fatalf("err = %v", err)
	}
	if want := "registry line 20: claim d/x for cluster c matches two entries (lines 10 and 20)"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestEntryIndex(t *testing.T) {
	x := newEntryIndex(0)
	id := ident{ns: "d", name: "x"}
	for line := 1; line <= 3; line++ {
		x.add(id, &fields{n: &yaml.Node{}}, line)
	}
	x.add(ident{ns: "d", name: "y"}, &fields{n: &yaml.Node{}}, 9)
	again := x.get(id, nil)[1]
	x.add(id, &fields{n: again.f.n}, 7) // the same mapping through an alias
	got := x.get(id, nil)
	if len(got) != 3 || got[0].line != 1 || got[2].line != 3 {
		t.Errorf("entries %+v", got)
	}
	if len(x.get(ident{ns: "none"}, nil)) != 0 {
		t.Error("unknown identity has entries")
	}
}

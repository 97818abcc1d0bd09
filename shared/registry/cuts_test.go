package registry

import (
	"slices"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

func TestSectionCuts(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		items bool
		want  []cut
	}{
		{"keys and items", "a:\n  - x\n  - y\nb:\n  - z\n", true, []cut{{0, false}, {2, true}, {3, false}}},
		{"keys only", "a:\n  - x\n  - y\nb:\n  - z\n", false, []cut{{0, false}, {3, false}}},
		{"a header stays with its list", "apiVersion: v\nkind: K\nclaims:\n  - a\n  - b\n", true, []cut{{0, false}, {4, true}}},
		{"first document marker", "---\na: []\nb: []\n", false, []cut{{0, false}, {2, false}}},
		{"second document", "a: 1\n---\nb: 2\n", false, nil},
		{"directive", "%YAML 1.1\n---\na: 1\nb: 2\n", false, nil},
		{"block scalar content is no item", "a:\n  - m: |\n      - not an item\n  - y\n", true, []cut{{0, false}, {3, true}}},
		{"flush list", "a:\n- x\n- y\nb:\n- z\n", true, []cut{{0, false}, {2, true}, {3, false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := sectionCuts(yamlsrc.New([]byte(tc.src)), 1, 0, tc.items); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

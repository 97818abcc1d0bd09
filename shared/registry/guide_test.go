package registry

import (
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

func TestGuideShapes(t *testing.T) {
	var g guide
	if d, k := g.listShape(0); d != 2 || k != 4 || g.step() != 2 {
		t.Errorf("defaults: dash %d keys %d step %d", d, k, g.step())
	}
	g.sampleList(0, 4, 6, &fields{}) // the reference file: "    - name"
	g.sampleList(0, 0, 2, &fields{}) // later lists do not count
	if d, k := g.listShape(2); d != 6 || k != 8 || g.step() != 4 {
		t.Errorf("sampled: dash %d keys %d step %d", d, k, g.step())
	}
	var flush guide
	flush.sampleList(0, 0, 4, &fields{}) // "-   name"
	if d, k := flush.listShape(0); d != 0 || k != 4 || flush.step() != 4 {
		t.Errorf("flush: dash %d keys %d step %d", d, k, flush.step())
	}
}

func TestGuideSample(t *testing.T) {
	var g guide
	f, err := readFields(mapping(t, "statusMessage: |\n  x\nname: 'n'\nlastCheckedAt:\n"), yamlsrc.TopCtx)
	if err != nil {
		t.Fatal(err)
	}
	g.sample(f)
	if g.val[fName] != yamlsrc.StyleSingle || !g.sampled[fStatusMessage] || g.val[fStatusMessage] != yamlsrc.StyleAny || g.sampled[fLastCheckedAt] {
		t.Errorf("guide %+v", g)
	}
}

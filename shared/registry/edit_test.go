package registry

import (
	"strings"
	"testing"
)

func TestEditorApply(t *testing.T) {
	src := []byte("0123456789")
	var e editor
	e.replace(2, 4, "ab") // "23" -> "ab"
	e.insert(6, "X", 0)   // made first, lower rank: second at 6
	e.replace(6, 7, "")   // removal at 6 comes after the insertions there
	e.insert(6, "Y", 5)   // higher rank: first at 6
	e.insert(10, "!", 0)  // at the end
	e.replace(8, 8, "")   // no-op, dropped
	out, err := e.apply(src)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "01ab45YX789!"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if string(src) != "0123456789" {
		t.Error("source modified")
	}
}

func TestEditorOverlap(t *testing.T) {
	var e editor
	e.replace(1, 5, "x")
	e.replace(3, 6, "y")
	if _, err := e.apply([]byte("0123456789")); err == nil || !strings.Contains(err.Error(), "overlapping edits") {
		t.Errorf("err = %v", err)
	}
}

// Insertions at one offset go innermost first: deeper indented lines,
// then list items before keys at the same column.
func TestInsertLinesRank(t *testing.T) {
	p := &planner{s: newSource([]byte("a:\n- x\n"))}
	at := len(p.s.b)
	p.insertLines(at, []string{"b:", "- new"})
	p.insertLines(at, []string{"- y"})
	p.insertLines(at, []string{"  k: v"})
	out, err := p.ed.apply(p.s.b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "a:\n- x\n  k: v\n- y\nb:\n- new\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Lines inserted at the end of a file without a final line break keep it
// without one.
func TestInsertLinesNoFinalBreak(t *testing.T) {
	p := &planner{s: newSource([]byte("a: 1\r\nb: 2"))}
	p.insertLines(len(p.s.b), []string{"c: 3", "d: 4"})
	out, err := p.ed.apply(p.s.b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "a: 1\r\nb: 2\r\nc: 3\r\nd: 4"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

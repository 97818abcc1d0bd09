package yamlsrc

import (
	"strings"
	"testing"
)

func TestEditorApply(t *testing.T) {
	src := []byte("0123456789")
	var e Editor
	e.Replace(2, 4, "ab") // "23" -> "ab"
	e.Insert(6, "X", 0)   // made first, lower rank: second at 6
	e.Replace(6, 7, "")   // removal at 6 comes after the insertions there
	e.Insert(6, "Y", 5)   // higher rank: first at 6
	e.Insert(10, "!", 0)  // at the end
	e.Replace(8, 8, "")   // no-op, dropped
	out, err := e.Apply(src)
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
	var e Editor
	e.Replace(1, 5, "x")
	e.Replace(3, 6, "y")
	if _, err := e.Apply([]byte("0123456789")); err == nil || !strings.Contains(err.Error(), "overlapping edits") {
		t.Errorf("err = %v", err)
	}
}

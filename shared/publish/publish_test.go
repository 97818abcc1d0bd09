package publish

import (
	"encoding/json"
	"testing"
)

func TestBlobSHAIsGits(t *testing.T) {
	// git hash-object of "hello\n" and of an empty file.
	for in, want := range map[string]string{
		"hello\n": "ce013625030ba8dba906f756967f9e9ca394464a",
		"":        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
	} {
		if got := BlobSHA([]byte(in)); got != want {
			t.Errorf("BlobSHA(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestStateRoundTripsThroughJSON(t *testing.T) {
	st := State{BaseSHA: "b", BlobSHA: "l", BranchSHA: "h", TreeSHA: "t", PRNumber: 7, PRURL: "u", BodyHash: "x"}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(raw, &back); err != nil || back != st || !back.Known() {
		t.Fatalf("%s -> %+v (%v)", raw, back, err)
	}
	if (State{}).Known() {
		t.Fatal("zero state must be unknown")
	}
	if raw, _ := json.Marshal(State{}); string(raw) != "{}" {
		t.Fatalf("zero state marshals as %s", raw)
	}
}

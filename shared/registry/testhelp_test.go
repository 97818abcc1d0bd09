package registry

import (
	"bytes"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// applyCase runs Apply and wants exactly want, then a no-op second run.
func applyCase(t *testing.T, src string, recs []status.Record, opts Options, want string) Report {
	t.Helper()
	out, rep, err := Apply([]byte(src), recs, opts)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	again, rep2, err := Apply(out, recs, opts)
	if err != nil || !bytes.Equal(again, out) || len(rep2.Changed)+len(rep2.Deleted) != 0 {
		t.Fatalf("second Apply: %v %+v\n%s", err, rep2, again)
	}
	return rep
}

package registry

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// applyCase runs Apply and wants exactly want, then a no-op second run.
func applyCase(t *testing.T, src string, recs []status.Record, opts Options, want string) Report {
	t.Helper()
	out, rep, err := applyBoth(t, []byte(src), recs, opts)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	again, rep2, err := applyBoth(t, out, recs, opts)
	if err != nil || !bytes.Equal(again, out) || len(rep2.Changed)+len(rep2.Deleted) != 0 {
		t.Fatalf("second Apply: %v %+v\n%s", err, rep2, again)
	}
	return rep
}

// applyBoth is Apply, checked against itself: reading the file in the
// smallest sections (a cut at every top-level key) must give exactly
// what reading it whole gives: output, report and error.
func applyBoth(t testing.TB, src []byte, recs []status.Record, opts Options) ([]byte, Report, error) {
	t.Helper()
	out, rep, err := apply(src, recs, opts, 1)
	wout, wrep, werr := apply(src, recs, opts, 0)
	if fmt.Sprint(err) != fmt.Sprint(werr) || !bytes.Equal(out, wout) || !reflect.DeepEqual(rep, wrep) {
		t.Fatalf("sectioned and whole differ\nsectioned: %v %+v\n%s\nwhole: %v %+v\n%s", err, rep, out, werr, wrep, wout)
	}
	return out, rep, err
}

package registry

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// fuzzRecords decodes the fuzzer's record description: one record a line,
// fields separated by '|': cluster, claimRef, kind, ready, message, and
// "d" for deleted; `\n` in a message stands for a line break.
func fuzzRecords(desc string) []status.Record {
	var recs []status.Record
	for _, line := range strings.Split(desc, "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "|", 6)
		for len(f) < 6 {
			f = append(f, "")
		}
		recs = append(recs, status.Record{
			Cluster: f[0], ClaimRef: f[1], Kind: f[2], Ready: f[3],
			StatusMessage: strings.ReplaceAll(f[4], `\n`, "\n"),
			Deleted:       f[5] == "d", ObservedAt: observed,
		})
	}
	return recs
}

// FuzzApply: whatever the file and records, Apply does not panic or
// modify its input; when it succeeds the output parses (and decodes
// whenever the input did), and applying the same records again changes
// nothing.
func FuzzApply(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, "cluster-a|default/pg-main||True|Available\ncluster-b|apps/cache|||gone|d\ncluster-z|default/new|X.y|False|a: b\\nc", true)
	}
	f.Fuzz(func(t *testing.T, src []byte, desc string, addMissing bool) {
		recs := fuzzRecords(desc)
		orig := bytes.Clone(src)
		out, rep, err := applyBoth(t, src, recs, Options{AddMissing: addMissing})
		if !bytes.Equal(src, orig) {
			t.Fatal("Apply modified its input")
		}
		if err != nil {
			return
		}
		if _, err := parseDocs(out); err != nil {
			t.Fatalf("output does not parse: %v\n%q", err, out)
		}
		if decodes(src) && !decodes(out) {
			t.Fatalf("input decodes, output does not:\n%q", out)
		}
		again, rep2, err := applyBoth(t, out, recs, Options{AddMissing: addMissing})
		if err != nil {
			t.Fatalf("second Apply: %v\n%q", err, out)
		}
		if !bytes.Equal(again, out) || len(rep2.Changed) != 0 || len(rep2.Deleted) != 0 {
			t.Fatalf("second Apply is not a no-op\nfirst:  %q\nsecond: %q\nreport %+v\nfirst report %+v", out, again, rep2, rep)
		}
	})
}

// decodes reports whether every document of b decodes into Go values.
func decodes(b []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var v any
		err := dec.Decode(&v)
		if err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}

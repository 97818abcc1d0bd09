package registry

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/out")

const observed = "2026-02-01T10:00:00.5Z"

func mkrec(cluster, ref, ready, msg string) status.Record {
	return status.Record{Cluster: cluster, ClaimRef: ref, Ready: ready, StatusMessage: msg, ObservedAt: observed}
}

func deleted(r status.Record) status.Record { r.Deleted = true; return r }

func withKind(r status.Record, kind string) status.Record { r.Kind = kind; return r }

// seedRecords move the seed file's claims through every kind of change.
var seedRecords = []status.Record{
	withKind(mkrec("cluster-a", "default/pg-main", "False", "cannot apply: connection refused"), "PostgreSQL.database.example.org"),
	mkrec("cluster-a", "storage/bucket", "True", "Available"),    // unchanged
	mkrec("cluster-a", "default/legacy", "False", "Ready=False"), // entry has ready and no claimRef
	mkrec("cluster-a", "default/gone", "True", "Available"),      // reappears
	deleted(mkrec("cluster-b", "apps/cache", "True", "Available")),
	mkrec("cluster-a", "default/new-db", "True", "Available"), // missing in a known cluster
	mkrec("cluster-c", "ns/x", "Unknown", "Waiting"),          // missing, cluster list is []
	mkrec("cluster-z", "default/y", "True", "Available"),      // missing, cluster unknown
	deleted(mkrec("cluster-z", "default/old", "True", "Available")),
}

// seedFormatRecords are what the seed's informer (and our agent) send
// for the seed's own registry, whose claimRefs are no claim references.
var seedFormatRecords = []status.Record{
	mkrec("cluster-01", "default/my-db", "True", "Resource is available"),
	withKind(mkrec("cluster-01", "team-a/cache", "False", "Creating: waiting"), "Redis.cache.example.org"),
	mkrec("cluster-01", "team-b/queue", "True", "Available"),
	mkrec("cluster-01", "default/web", "True", "Ready"),                // unchanged
	mkrec("cluster-02", "default/my-db", "True", "Ready"),              // unchanged: no note
	mkrec("cluster-02", "postgresqls.2.2.2/my-db", "True", "Hijacked"), // matches nothing: the claimRef does not count
}

// wantDecoded is what a golden case's output decodes to (yaml.v3, so
// through aliases and merge keys), entry by entry.
var wantDecoded = map[string]string{
	"anchors-clusters": `
cluster-a:
  - {name: my-db, namespace: default, claimRef: postgresqls.2.2.2/my-db, statusMessage: Ready}
  - {name: base, namespace: team-a, kind: Redis, statusMessage: Creating}
  - {name: cache, namespace: team-a, kind: Redis, statusMessage: Available, lastCheckedAt: "2026-02-01T10:00:00.5Z"}
  - {name: queue, namespace: team-a, kind: Redis, statusMessage: "Creating: x", lastCheckedAt: "2026-02-01T10:00:00.5Z"}
cluster-b:
  - {name: my-db, namespace: default, claimRef: postgresqls.2.2.2/my-db, statusMessage: Ready}
  - {name: base, namespace: team-b, kind: Redis, statusMessage: Available, lastCheckedAt: "2026-02-01T10:00:00.5Z"}
cluster-c:
  - {name: web, namespace: default, statusMessage: Ready}
cluster-d:
  - {name: web, namespace: default, statusMessage: Ready}
cluster-e:
  - {name: bare, namespace: default}
cluster-f:
  - {name: bare, namespace: default}
`,
	"anchors-claimregistry": `
apiVersion: claim-registry.io/v1alpha1
kind: ClaimRegistry
claims:
  - {name: pg, namespace: default, clusters: {cluster-a: {ready: "True", statusMessage: Available}}}
  - name: cache
    namespace: apps
    clusters:
      cluster-a: {ready: "True", statusMessage: Available}
      cluster-b: {ready: "False", statusMessage: Creating, lastCheckedAt: "2026-02-01T10:00:00.5Z"}
      cluster-c: {ready: "True", statusMessage: Available, lastCheckedAt: "2026-02-01T10:00:00.5Z"}
  - {name: pg-copy, namespace: default, clusters: {cluster-a: {ready: "True", statusMessage: Available}}}
  - {name: pg, namespace: default, clusters: {cluster-a: {ready: "True", statusMessage: Available}}}
`,
	"seed-format": `
cluster-01:
  - {name: my-db, namespace: default, claimRef: postgresqls.2.2.2/my-db, statusMessage: Resource is available, lastCheckedAt: "2026-02-01T10:00:00.5Z"}
  - {name: cache, namespace: team-a, claimRef: redis.1.0.0/cache, kind: Redis, statusMessage: "Creating: waiting", lastCheckedAt: "2026-02-01T10:00:00.5Z"}
  - {claimRef: team-b/queue, statusMessage: Available, lastCheckedAt: "2026-02-01T10:00:00.5Z"}
  - {name: web, namespace: default, claimRef: default/web, statusMessage: Ready}
cluster-02:
  - {name: my-db, namespace: default, claimRef: postgresqls.2.2.2/my-db, statusMessage: Ready}
`,
}

// anchorRecords reach entries shared through aliases, entries that get
// their identity through merge keys and lists shared between clusters.
var anchorRecords = []status.Record{
	mkrec("cluster-a", "default/my-db", "True", "Available"),                                    // cluster-b reads the entry: left
	mkrec("cluster-b", "default/my-db", "False", "Broken"),                                      // the alias: left, not missing
	withKind(mkrec("cluster-a", "team-a/base", "True", "Available"), "Redis.cache.example.org"), // merged into others: left
	mkrec("cluster-a", "team-a/cache", "True", "Available"),                                     // identity through the merge, own message
	mkrec("cluster-a", "team-a/queue", "False", "Creating: x"),                                  // message through the merge: an own key overrides it
	mkrec("cluster-b", "team-b/base", "True", "Available"),
	mkrec("cluster-c", "default/web", "True", "Available"), // the list is shared
	mkrec("cluster-d", "default/web", "True", "Available"),
	mkrec("cluster-d", "default/new", "True", "Available"),  // missing, its list is cluster-c's: never added
	mkrec("cluster-a", "default/new", "True", "Available"),  // missing, added
	mkrec("cluster-e", "default/bare", "True", "Available"), // aliased entry without status: no key added
}

// anchorRegistryRecords do the same in a ClaimRegistry.
var anchorRegistryRecords = []status.Record{
	mkrec("cluster-a", "default/pg", "False", "Broken"),        // the entry is aliased: left
	mkrec("cluster-a", "apps/cache", "False", "Broken"),        // status map is an alias: left
	mkrec("cluster-b", "apps/cache", "False", "Creating"),      // own message same, ready through the merge: own key added
	mkrec("cluster-c", "apps/cache", "True", "Available"),      // new cluster in an own map
	mkrec("cluster-a", "default/pg-copy", "True", "Available"), // clusters through the merge: left
	mkrec("cluster-a", "default/new", "True", "Available"),
}

func init() {
	// The add-missing cases decode as their plain case plus the entry added.
	add := func(name, after, entry string) {
		want := wantDecoded[strings.TrimSuffix(name, "-add-missing")]
		i := strings.Index(want, after+"\n")
		if i < 0 {
			panic(name + ": no line " + after)
		}
		i += len(after) + 1
		wantDecoded[name] = want[:i] + entry + "\n" + want[i:]
	}
	const at = `lastCheckedAt: "2026-02-01T10:00:00.5Z"`
	add("anchors-clusters-add-missing", `statusMessage: "Creating: x", `+at+`}`,
		`  - {name: new, namespace: default, claimRef: default/new, statusMessage: Available, `+at+`}`)
	add("anchors-claimregistry-add-missing", `  - {name: pg-copy, namespace: default, clusters: {cluster-a: {ready: "True", statusMessage: Available}}}
  - {name: pg, namespace: default, clusters: {cluster-a: {ready: "True", statusMessage: Available}}}`,
		`  - {name: new, namespace: default, clusters: {cluster-a: {ready: "True", statusMessage: Available, `+at+`}}}`)
	add("seed-format-add-missing", `  - {name: my-db, namespace: default, claimRef: postgresqls.2.2.2/my-db, statusMessage: Ready}`,
		`  - {name: my-db, namespace: postgresqls.2.2.2, claimRef: postgresqls.2.2.2/my-db, statusMessage: Hijacked, `+at+`}`)
}

var goldenCases = []struct {
	name, in string
	recs     []status.Record
	opts     Options
}{
	{"seed-format", "seed-format.yaml", seedFormatRecords, Options{}},
	{"seed-format-add-missing", "seed-format.yaml", seedFormatRecords, Options{AddMissing: true}},
	{"anchors-clusters", "anchors-clusters.yaml", anchorRecords, Options{}},
	{"anchors-clusters-add-missing", "anchors-clusters.yaml", anchorRecords, Options{AddMissing: true}},
	{"anchors-claimregistry", "anchors-claimregistry.yaml", anchorRegistryRecords, Options{}},
	{"anchors-claimregistry-add-missing", "anchors-claimregistry.yaml", anchorRegistryRecords, Options{AddMissing: true}},
	{"seed-update", "seed.yaml", seedRecords, Options{}},
	{"seed-add-missing", "seed.yaml", seedRecords, Options{AddMissing: true}},
	{"seed-noop", "seed.yaml", []status.Record{
		mkrec("cluster-a", "default/pg-main", "False", "Creating"),
		mkrec("cluster-a", "storage/bucket", "True", "Available"),
		mkrec("cluster-a", "default/legacy", "True", "Ready=True"),
		deleted(mkrec("cluster-a", "default/gone", "True", "Available")),
		mkrec("cluster-b", "apps/cache", "True", "Available"),
	}, Options{AddMissing: true}},
	{"seed-kind-mismatch", "seed.yaml", []status.Record{
		withKind(mkrec("cluster-a", "default/pg-main", "True", "Available"), "Bucket.s3.aws.upbound.io"),
		withKind(mkrec("cluster-a", "storage/bucket", "True", "Synced"), "Bucket.s3.aws.upbound.io"),
	}, Options{AddMissing: true}},
	{"seed-values", "seed.yaml", []status.Record{
		mkrec("cluster-a", "default/pg-main", "False", "line one\nline two"),
		mkrec("cluster-a", "storage/bucket", "True", "true"),
		mkrec("cluster-a", "default/legacy", "False", "123"),
		mkrec("cluster-a", "default/gone", "True", "# not a comment"),
		mkrec("cluster-b", "apps/cache", "True", `say "hi" \ tab	here`),
	}, Options{}},
	{"4space-flush", "seed-4space-flush.yaml", []status.Record{
		mkrec("cluster-a", "default/pg-main", "True", "Available"),
		deleted(mkrec("cluster-a", "storage/bucket", "True", "Available")),
		mkrec("cluster-a", "default/new", "True", "Available"),
		mkrec("cluster-c", "default/other", "False", "Creating"),
	}, Options{AddMissing: true}},
	{"crlf", "seed-crlf.yaml", []status.Record{
		mkrec("cluster-a", "default/pg-main", "True", "Available: all good"),
		deleted(mkrec("cluster-a", "storage/bucket", "True", "Available")),
		mkrec("cluster-b", "default/new", "True", "Available"),
	}, Options{AddMissing: true}},
	{"no-eol", "seed-no-eol.yaml", []status.Record{
		mkrec("cluster-a", "storage/bucket", "False", "Deleting"),
		deleted(mkrec("cluster-a", "storage/bucket", "False", "Deleting")),
		mkrec("cluster-b", "default/new", "True", "Available"),
	}, Options{AddMissing: true}},
	{"reference", "claim-registry-example.yaml", []status.Record{
		mkrec("cluster-a", "default/hacky", "True", "Available"),
		mkrec("cluster-b", "default/hacky", "False", "Creating: waiting for volume"),
		deleted(mkrec("cluster-a", "default/harvestervm-developer-martin", "True", "Available")),
		mkrec("cluster-a", "default/demo-project", "True", "Available"), // the entry's namespace is ""
	}, Options{}},
	{"reference-add-missing", "claim-registry-example.yaml", []status.Record{
		mkrec("cluster-a", "default/hacky", "True", "Available"),
		mkrec("cluster-a", "default/demo-project", "True", "Available"),
		mkrec("cluster-b", "default/demo-project", "Unknown", "Ready=Unknown"),
	}, Options{AddMissing: true}},
	{"claimregistry-status", "claimregistry-status.yaml", []status.Record{
		withKind(mkrec("cluster-a", "default/pg-main", "True", "Available"), "PostgreSQL.database.example.org"), // unchanged
		withKind(mkrec("cluster-b", "default/pg-main", "True", "Available"), "PostgreSQL.database.example.org"),
		withKind(mkrec("cluster-c", "default/pg-main", "False", "Creating"), "PostgreSQL.database.example.org"),
		mkrec("cluster-a", "storage/bucket", "True", "Available"), // reappears
		mkrec("cluster-a", "apps/cache", "True", "Available"),     // into clusters: {}
		deleted(mkrec("cluster-a", "apps/queue", "True", "Available")),
		mkrec("cluster-a", "apps/new", "True", "Available"),
	}, Options{AddMissing: true}},
	{"claimregistry-deleted", "claimregistry-status.yaml", []status.Record{
		deleted(mkrec("cluster-a", "default/pg-main", "True", "Available")),
		deleted(mkrec("cluster-a", "storage/bucket", "True", "Available")), // already deleted
	}, Options{}},
	{"claimregistry-kind-mismatch", "claimregistry-status.yaml", []status.Record{
		withKind(mkrec("cluster-a", "default/pg-main", "True", "Available"), "Bucket.s3.aws.upbound.io"),
	}, Options{AddMissing: true}},
	{"messages", "messages.yaml", []status.Record{
		mkrec("cluster-a", "default/literal", "False", "line one\nline three"),
		mkrec("cluster-a", "default/literal-to-one-line", "True", "Available"),
		mkrec("cluster-a", "default/folded", "True", "now a single line"),
		mkrec("cluster-a", "default/wrapped", "True", "short"),
		mkrec("cluster-a", "default/single", "True", "it's changed"),
		mkrec("cluster-a", "default/empty", "True", "Available"),
		mkrec("cluster-a", "default/typed", "True", "null"),
		mkrec("cluster-a", "default/flow", "True", "key: value, [list]"),
		mkrec("cluster-a", "default/inline", "True", "Ready, finally"),
	}, Options{}},
	{"multi-doc", "multi-doc.yaml", []status.Record{
		mkrec("prod-a", "default/pg-main", "True", "Available"),
		mkrec("staging-a", "default/pg-main", "False", "Failing"),
		mkrec("prod-b", "default/pg-main", "True", "Available"),
	}, Options{AddMissing: true}},
}

// TestApplyGolden checks exact output bytes and report for each case,
// and that applying the same records to the output changes nothing.
func TestApplyGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "in", tc.in))
			if err != nil {
				t.Fatal(err)
			}
			orig := bytes.Clone(src)
			out, rep, err := applyBoth(t, src, tc.recs, tc.opts)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !bytes.Equal(src, orig) {
				t.Fatal("Apply modified its input")
			}
			report := formatReport(rep)
			golden(t, tc.name+".yaml", out)
			golden(t, tc.name+".report", []byte(report))
			mustParse(t, out)
			if want, ok := wantDecoded[tc.name]; ok {
				wantValues(t, out, want)
			}

			again, rep2, err := applyBoth(t, out, tc.recs, tc.opts)
			if err != nil {
				t.Fatalf("second Apply: %v", err)
			}
			if !bytes.Equal(again, out) {
				t.Errorf("second Apply changed the file:\n%s", again)
			}
			if len(rep2.Changed)+len(rep2.Deleted) != 0 {
				t.Errorf("second Apply reported changes: %+v", rep2)
			}
			for _, m := range rep2.Missing {
				if tc.opts.AddMissing && m.Added {
					t.Errorf("second Apply added %s %s again", m.Cluster, m.ClaimRef)
				}
			}
		})
	}
}

// wantValues checks that b decodes (yaml.v3, aliases and merge keys
// resolved as any reader sees them) to exactly the values of want.
func wantValues(t *testing.T, b []byte, want string) {
	t.Helper()
	var got, exp any
	if err := yaml.Unmarshal(b, &got); err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	if err := yaml.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("want does not decode: %v", err)
	}
	if !reflect.DeepEqual(got, exp) {
		g, _ := yaml.Marshal(got)
		w, _ := yaml.Marshal(exp)
		t.Errorf("output decodes to\n%s\nwant\n%s", g, w)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "out", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func mustParse(t *testing.T, b []byte) {
	t.Helper()
	if _, err := parseDocs(b); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, b)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("output does not decode: %v\n%s", err, b)
			}
			return
		}
	}
}

func formatReport(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "layout: %s\n", r.Layout)
	section := func(name string, cs []Change) {
		fmt.Fprintf(&b, "%s:\n", name)
		for _, c := range cs {
			fmt.Fprintf(&b, "  %s %s%s: %q -> %q\n", c.Cluster, c.ClaimRef, kindSuffix(c.Kind), c.Old, c.New)
		}
	}
	section("changed", r.Changed)
	fmt.Fprintf(&b, "missing:\n")
	for _, m := range r.Missing {
		added := ""
		if m.Added {
			added = " (added)"
		}
		fmt.Fprintf(&b, "  %s %s%s: %q%s\n", m.Cluster, m.ClaimRef, kindSuffix(m.Kind), statusText(m.Ready, m.StatusMessage, m.Deleted), added)
	}
	section("deleted", r.Deleted)
	if len(r.Notes) > 0 {
		fmt.Fprintf(&b, "notes:\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  %s %s%s line %d: %s\n", n.Cluster, n.ClaimRef, kindSuffix(n.Kind), n.Line, n.Text)
		}
	}
	return b.String()
}

func TestApplyErrors(t *testing.T) {
	one := []status.Record{mkrec("a", "default/foo", "True", "Available")}
	cases := []struct {
		name, src string
		want      string
		is        error
	}{
		{"invalid yaml", "a:\n  - b\n c: [d\n", "registry line 2: invalid YAML: did not find expected key", ErrInvalidYAML},
		{"unclosed quote", "a:\n  - statusMessage: \"open\n", "registry line 2: invalid YAML: found unexpected end of stream", ErrInvalidYAML},
		{"utf16", "\xff\xfea\x00:\x00", "registry line 1: invalid YAML: UTF-16", ErrInvalidYAML},
		{"bad utf8", "a:\n  - name: \xff\n", "registry line 2: invalid YAML: not valid UTF-8", ErrInvalidYAML},
		{"empty", "", "registry line 1: the file is empty", ErrUnknownLayout},
		{"comments only", "# nothing\n", "registry line 1: the file is empty", ErrUnknownLayout},
		{"list", "- a\n- b\n", "registry line 1: the document is a list", ErrUnknownLayout},
		{"scalar", "hello\n", "registry line 1: the document is a single value", ErrUnknownLayout},
		{"scalar value", "a: []\nb: text\n", `registry line 2: top-level key "b" holds a single value`, ErrUnknownLayout},
		{"mapping value", "a: []\nb:\n  c: d\n", `registry line 3: top-level key "b" holds a mapping`, ErrUnknownLayout},
		{"wrong apiVersion", "apiVersion: v1\nkind: ClaimRegistry\nclaims: []\n", "registry line 2: kind ClaimRegistry with apiVersion \"v1\"", ErrUnknownLayout},
		{"claims not a list", "apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\nclaims: x\n", "registry line 3: claims is a single value", ErrUnknownLayout},
		{"mixed layouts", "a: []\n---\napiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\n", "registry line 3: document 2 is a ClaimRegistry", ErrUnknownLayout},
		{"double match", "a:\n  - claimRef: default/foo\n    statusMessage: x\n  - name: other\n  - name: foo\n    namespace: default\n", "registry line 5: claim default/foo for cluster a matches two entries (lines 2 and 5)", ErrAmbiguous},
		{"double match registry", "apiVersion: claim-registry.io/v1alpha1\nkind: ClaimRegistry\nclaims:\n  - name: foo\n    namespace: default\n  - name: foo\n    namespace: default\n", "registry line 6: claim default/foo for cluster a matches two entries (lines 4 and 6)", ErrAmbiguous},
		{"duplicate key", "a:\n  - claimRef: default/foo\n    statusMessage: x\n    statusMessage: y\n", `registry line 4: invalid YAML: duplicate key "statusMessage" (first at line 3)`, ErrInvalidYAML},
		{"duplicate cluster", "a: []\nb: []\na: []\n", `registry line 3: invalid YAML: cluster "a" appears twice (lines 1 and 3)`, ErrInvalidYAML},
		{"message is a list", "a:\n  - claimRef: default/foo\n    statusMessage: [x]\n", "registry line 3: statusMessage of claim default/foo in cluster a is a list", ErrUnsupported},
		{"flow entry needs a key", "a:\n  - {claimRef: default/foo}\n", `registry line 2: cannot add "statusMessage" to a flow-style mapping`, ErrUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := applyBoth(t, []byte(tc.src), one, Options{AddMissing: true})
			if err == nil {
				t.Fatalf("no error; output:\n%s", out)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q\nwant prefix %q", err, tc.want)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not *Error", err)
			}
		})
	}
}

// A claim that comes back after a deletion returns the entry to its
// shape: the deleted line goes again.
func TestApplyDeleteAndReturn(t *testing.T) {
	src := []byte("a:\n  - claimRef: default/foo\n    statusMessage: Available # last\n    lastCheckedAt: \"2026-01-01T00:00:00Z\"\n")
	gone, rep, err := applyBoth(t, src, []status.Record{deleted(mkrec("a", "default/foo", "True", "Available"))}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantGone := "a:\n  - claimRef: default/foo\n    statusMessage: Available # last\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n    deleted: true\n"
	if string(gone) != wantGone || len(rep.Deleted) != 1 || rep.Deleted[0].New != "deleted" || len(rep.Changed) != 0 {
		t.Fatalf("deleted:\n%s\nreport %+v", gone, rep)
	}
	back, rep, err := applyBoth(t, gone, []status.Record{mkrec("a", "default/foo", "True", "Available")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantBack := strings.Replace(wantGone, "    deleted: true\n", "", 1)
	if string(back) != wantBack || len(rep.Changed) != 1 || rep.Changed[0].Old != "deleted" || rep.Changed[0].New != "True: Available" {
		t.Fatalf("back:\n%s\nreport %+v", back, rep)
	}
}

// Duplicate records collapse to the last one; records that can match
// nothing are reported missing and never added.
func TestApplyRecordEdgeCases(t *testing.T) {
	src := []byte("a:\n  - claimRef: default/foo\n    statusMessage: x\n")
	recs := []status.Record{
		mkrec("a", "default/foo", "True", "first"),
		mkrec("a", "default/foo", "True", "second"),
		mkrec("", "default/foo", "True", "no cluster"),
		mkrec("a", "no-slash", "True", "bad ref"),
		mkrec("a", "/foo", "True", "no namespace"),
		{Cluster: "a", ClaimRef: "default/bar", StatusMessage: "bad \xff utf8"},
	}
	out, rep, err := applyBoth(t, src, recs, Options{AddMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "statusMessage: second\n") {
		t.Errorf("last duplicate should win:\n%s", out)
	}
	if len(rep.Missing) != 4 {
		t.Fatalf("missing %+v", rep.Missing)
	}
	for _, m := range rep.Missing {
		if m.Added != (m.ClaimRef == "default/bar") {
			t.Errorf("missing %s %q added=%v", m.Cluster, m.ClaimRef, m.Added)
		}
	}
	if !strings.Contains(string(out), `statusMessage: "bad \uFFFD utf8"`) {
		t.Errorf("invalid UTF-8 should be replaced:\n%s", out)
	}
	again, _, err := applyBoth(t, out, recs, Options{AddMissing: true})
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("second apply: %v\n%s", err, again)
	}
}

// A kind-less record beside a kinded one of the same claim in the same
// cluster (stored before the store kept one record per claim) is not a
// second claim: it neither writes the entry nor is added.
func TestApplyKindlessBesideKinded(t *testing.T) {
	src := "a:\n  - claimRef: default/foo\n    statusMessage: x\n"
	recs := []status.Record{
		mkrec("a", "default/foo", "True", "seed"),
		withKind(mkrec("a", "default/foo", "True", "agent"), "PostgreSQL.database.example.org"),
		mkrec("b", "default/foo", "True", "only seed"),
	}
	rep := applyCase(t, src, recs, Options{AddMissing: true},
		"a:\n  - claimRef: default/foo\n    statusMessage: agent\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\nb:\n  - claimRef: default/foo\n    statusMessage: only seed\n    lastCheckedAt: \"2026-02-01T10:00:00.5Z\"\n")
	if len(rep.Missing) != 1 || rep.Missing[0].Cluster != "b" {
		t.Errorf("missing %+v", rep.Missing)
	}
}

// An anchored status value is left as written (an alias may read it),
// with a note, and the claim is not appended again.
func TestApplyAnchoredValueIsLeft(t *testing.T) {
	src := "a:\n  - claimRef: default/foo\n    statusMessage: &m x\n"
	rep := applyCase(t, src, []status.Record{mkrec("a", "default/foo", "True", "Available")}, Options{AddMissing: true}, src)
	if len(rep.Notes) != 1 || rep.Notes[0].Line != 2 || !strings.HasPrefix(rep.Notes[0].Text, "not written: an alias or anchor") || len(rep.Missing) != 0 {
		t.Errorf("report %+v", rep)
	}
}

// Nested merge lists cannot make Apply's work explode: each entry reads
// at most maxMerges merged mappings.
func TestApplyMergeBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a:\n  - &m0 {name: x, namespace: d}\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "  - &m%d {<<: [*m%d, *m%d, *m%d, *m%d]}\n", i, i-1, i-1, i-1, i-1)
	}
	start := time.Now()
	_, _, err := applyBoth(t, []byte(b.String()), []status.Record{mkrec("a", "d/x", "True", "ok")}, Options{})
	if err == nil || !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("err = %v, want the 21 entries of d/x to be ambiguous", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}

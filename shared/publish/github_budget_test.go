package publish

import (
	"strings"
	"testing"
	"time"
)

// TestCallBudget measures GitHub calls per run (ReadBase + Publish, as a
// dirty reconcile makes them; Check alone for a clean one) at 10 and
// 10,000 claims. The 10,000-claim file is over 1 MB, so it is read as a
// blob.
func TestCallBudget(t *testing.T) {
	for _, claims := range []int{10, 10000} {
		e := newEnv(t, claims)
		if big := len(registry(claims, 0)) > 1<<20; big != (claims == 10000) {
			t.Fatalf("%d claims: file of %d bytes", claims, len(registry(claims, 0)))
		}
		creation := e.mustRun(registry(claims, 1), desired(1))
		update := e.mustRun(registry(claims, 2), desired(2))
		nothing := e.mustRun(registry(claims, 2), desired(2))
		_, clean := e.check()
		closing := e.mustRun(registry(claims, 0), desired(0))
		t.Logf("%5d claims: creation %d calls (%d mutating), update %d (%d), nothing new %d (%d), clean check %d, close %d (%d)",
			claims, creation.calls, creation.mutations, update.calls, update.mutations,
			nothing.calls, nothing.mutations, clean, closing.calls, closing.mutations)
		for name, o := range map[string]outcome{"creation": creation, "update": update, "close": closing} {
			if o.calls > 8 {
				t.Errorf("%d claims: %s run made %d calls, budget 8", claims, name, o.calls)
			}
			if o.res.Mutations != o.mutations {
				t.Errorf("%s: result says %d mutations, fake saw %d", name, o.res.Mutations, o.mutations)
			}
		}
		if clean != 1 || nothing.mutations != 0 {
			t.Errorf("%d claims: clean check %d calls, nothing-new run %d mutations", claims, clean, nothing.mutations)
		}
		blobReads := e.callsTo("GET", "/git/blobs/")
		if (claims == 10000) != (blobReads == 4) {
			t.Errorf("%d claims: %d blob reads", claims, blobReads)
		}
	}
}

// TestCallBudgetAfterMerge is the clean-generation path where the base
// moved: a person merged the PR. Check, ReadBase and the close together.
func TestCallBudgetAfterMerge(t *testing.T) {
	e := newEnv(t, 10000)
	e.mustRun(registry(10000, 1), desired(1))
	e.repo.MergePull(e.onePR().Number)
	ok, checkCalls := e.check()
	if ok {
		t.Fatal("check missed the merge")
	}
	o := e.mustRun(registry(10000, 1), desired(1))
	t.Logf("after merge: check %d + run %d calls", checkCalls, o.calls)
	if checkCalls+o.calls > 8 || o.res.Action != ActionClosed {
		t.Fatalf("%+v in %d calls", o.res, checkCalls+o.calls)
	}
}

func TestReadBaseLargeFileViaBlob(t *testing.T) {
	e := newEnv(t, 10000)
	b, err := e.pub.ReadBase(e.ctx(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if string(b.Content) != registry(10000, 0) || b.BlobSHA != BlobSHA(b.Content) {
		t.Fatal("content differs")
	}
	if e.callsTo("GET", "/contents/") != 1 || e.callsTo("GET", "/git/blobs/") != 1 {
		t.Fatalf("calls %+v", e.srv.Calls())
	}
}

func TestReadBaseErrors(t *testing.T) {
	e := newEnv(t, 10, func(c *Config) { c.Path = "missing.yaml" })
	_, err := e.pub.ReadBase(e.ctx(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "read registry missing.yaml@") || !strings.Contains(err.Error(), ErrNotFound.Error()) {
		t.Fatalf("got %v", err)
	}
	e = newEnv(t, 10, func(c *Config) { c.Path = "docs" })
	if _, err := e.pub.ReadBase(e.ctx(time.Hour)); err == nil || !strings.Contains(err.Error(), "not a file") {
		t.Fatalf("got %v", err)
	}
	e = newEnv(t, 10, func(c *Config) { c.BaseBranch = "nope" })
	if _, err := e.pub.ReadBase(e.ctx(time.Hour)); err == nil || !strings.Contains(err.Error(), "read nope head") {
		t.Fatalf("got %v", err)
	}
}

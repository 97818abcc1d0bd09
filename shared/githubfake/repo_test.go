package githubfake

import (
	"reflect"
	"testing"
)

func TestRepoHelpers(t *testing.T) {
	s := New(t)
	r := s.CreateRepo("o", "r", map[string]string{"a.txt": "a", "dir/b.txt": "b"})
	main, ok := r.Branch("main")
	if !ok || s.Repo("o", "r") == nil {
		t.Fatal("no main")
	}

	side := r.SetFile("side", "dir/b.txt", []byte("B"))
	c, ok := r.Commit(side)
	if !ok || c.Author != Someone || len(c.Parents) != 1 || c.Parents[0] != main {
		t.Fatalf("SetFile commit: %+v", c)
	}
	if got := r.ChangedPaths("main", "side"); !reflect.DeepEqual(got, []string{"dir/b.txt"}) {
		t.Fatalf("changed paths %v", got)
	}
	r.SetFile("side", "new.txt", []byte("n"))
	if got := r.ChangedPaths(main, "side"); !reflect.DeepEqual(got, []string{"dir/b.txt", "new.txt"}) {
		t.Fatalf("changed paths %v", got)
	}
	if len(r.Branches()) != 2 {
		t.Fatalf("branches %v", r.Branches())
	}
	r.DeleteBranch("side")
	if _, ok := r.Branch("side"); ok {
		t.Fatal("branch not deleted")
	}
	if _, ok := r.File("main", "dir"); ok {
		t.Fatal("File must not return a directory")
	}
}

func TestRepoPanicsOnUnknownRepository(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New(t).Repo("x", "y")
}

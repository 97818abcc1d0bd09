package githubfake

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Git file modes as the REST API spells them. Git itself writes a tree's
// mode without the leading zero ("40000"); encodeTree handles that.
const (
	modeFile    = "100644"
	modeExec    = "100755"
	modeTree    = "040000"
	modeCommit  = "160000"
	modeSymlink = "120000"
)

// signature is a commit's author or committer line.
type signature struct {
	Name  string
	Email string
	When  time.Time
}

// commitObj is a stored commit object.
type commitObj struct {
	Tree      string
	Parents   []string
	Author    signature
	Committer signature
	Message   string
	// Signature is GitHub's own signature ("gpgsig") on a commit it
	// created for a GitHub App; "" when unsigned.
	Signature string
}

// treeEntry is one line of a stored tree object.
type treeEntry struct {
	Name string
	Mode string // API form: "100644", "040000", ...
	SHA  string
}

// kind is the object type the REST API reports for the entry.
func (e treeEntry) kind() string {
	switch e.Mode {
	case modeTree:
		return "tree"
	case modeCommit:
		return "commit"
	default:
		return "blob"
	}
}

// objectStore holds one repository's git objects, keyed by their git SHA-1.
type objectStore struct {
	blobs   map[string][]byte
	trees   map[string][]treeEntry
	commits map[string]*commitObj
}

func newObjectStore() *objectStore {
	return &objectStore{
		blobs:   map[string][]byte{},
		trees:   map[string][]treeEntry{},
		commits: map[string]*commitObj{},
	}
}

// hashObject computes the id git gives an object: SHA-1 over
// "<type> <size>\x00<payload>".
func hashObject(typ string, payload []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typ, len(payload))
	h.Write(payload)
	return hex.EncodeToString(h.Sum(nil))
}

// putBlob stores data and returns its blob SHA.
func (o *objectStore) putBlob(data []byte) string {
	sha := hashObject("blob", data)
	if _, ok := o.blobs[sha]; !ok {
		o.blobs[sha] = bytes.Clone(data)
	}
	return sha
}

// sortTree orders entries the way git does: byte-wise by name, where a
// subtree compares as if its name ended in "/".
func sortTree(entries []treeEntry) {
	key := func(e treeEntry) string {
		if e.Mode == modeTree {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
}

// encodeTree renders the tree object payload git hashes.
func encodeTree(entries []treeEntry) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		raw, _ := hex.DecodeString(e.SHA)
		b.WriteString(strings.TrimPrefix(e.Mode, "0"))
		b.WriteByte(' ')
		b.WriteString(e.Name)
		b.WriteByte(0)
		b.Write(raw)
	}
	return b.Bytes()
}

// putTree sorts, stores and hashes a tree.
func (o *objectStore) putTree(entries []treeEntry) string {
	entries = append([]treeEntry(nil), entries...)
	sortTree(entries)
	sha := hashObject("tree", encodeTree(entries))
	o.trees[sha] = entries
	return sha
}

// formatSignature renders "Name <email> <unix> +0000" as git does.
func formatSignature(s signature) string {
	_, off := s.When.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s <%s> %d %c%02d%02d", s.Name, s.Email, s.When.Unix(), sign, off/3600, off/60%60)
}

// encodeCommit renders the commit object payload git hashes.
func encodeCommit(c *commitObj) []byte {
	var b strings.Builder
	b.WriteString("tree " + c.Tree + "\n")
	for _, p := range c.Parents {
		b.WriteString("parent " + p + "\n")
	}
	b.WriteString("author " + formatSignature(c.Author) + "\n")
	b.WriteString("committer " + formatSignature(c.Committer) + "\n")
	if c.Signature != "" {
		b.WriteString("gpgsig " + strings.ReplaceAll(c.Signature, "\n", "\n ") + "\n")
	}
	b.WriteString("\n")
	b.WriteString(c.Message)
	return []byte(b.String())
}

// putCommit stores and hashes a commit.
func (o *objectStore) putCommit(c *commitObj) string {
	sha := hashObject("commit", encodeCommit(c))
	o.commits[sha] = c
	return sha
}

// isAncestor reports whether anc is reachable from desc through parents
// (a commit is its own ancestor), which is git's fast-forward rule.
func (o *objectStore) isAncestor(anc, desc string) bool {
	seen := map[string]bool{}
	queue := []string{desc}
	for len(queue) > 0 {
		sha := queue[0]
		queue = queue[1:]
		if sha == anc {
			return true
		}
		if seen[sha] {
			continue
		}
		seen[sha] = true
		if c, ok := o.commits[sha]; ok {
			queue = append(queue, c.Parents...)
		}
	}
	return false
}

// lookup finds the entry at a slash-separated path below tree root.
func (o *objectStore) lookup(root, path string) (treeEntry, bool) {
	cur := treeEntry{Mode: modeTree, SHA: root}
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if cur.Mode != modeTree {
			return treeEntry{}, false
		}
		found := false
		for _, e := range o.trees[cur.SHA] {
			if e.Name == part {
				cur, found = e, true
				break
			}
		}
		if !found {
			return treeEntry{}, false
		}
	}
	return cur, true
}

// walk lists every entry below root with its full path, parents before
// children, as GET git/trees?recursive=1 does.
func (o *objectStore) walk(root, prefix string, fn func(path string, e treeEntry)) {
	for _, e := range o.trees[root] {
		p := prefix + e.Name
		fn(p, e)
		if e.Mode == modeTree {
			o.walk(e.SHA, p+"/", fn)
		}
	}
}

// treeEdit is one entry of a POST git/trees request after validation.
type treeEdit struct {
	Path   string
	Mode   string
	SHA    string
	Delete bool
}

// dirNode is a directory being edited: its stored entries plus the
// subdirectories the edits descend into, written back bottom-up.
type dirNode struct {
	entries map[string]treeEntry
	subdirs map[string]*dirNode
}

func (o *objectStore) loadDir(sha string) *dirNode {
	d := &dirNode{entries: map[string]treeEntry{}, subdirs: map[string]*dirNode{}}
	for _, e := range o.trees[sha] {
		d.entries[e.Name] = e
	}
	return d
}

// child descends into name, creating the directory when absent (or when a
// file stands there, which the new directory replaces, as git allows).
func (o *objectStore) child(d *dirNode, name string) *dirNode {
	if sub, ok := d.subdirs[name]; ok {
		return sub
	}
	var sub *dirNode
	if e, ok := d.entries[name]; ok && e.Mode == modeTree {
		sub = o.loadDir(e.SHA)
	} else {
		sub = o.loadDir("")
	}
	d.subdirs[name] = sub
	return sub
}

// write stores d and every edited subdirectory; an emptied directory
// disappears from its parent, as in git. It returns "" for an empty tree
// below the root.
func (o *objectStore) write(d *dirNode, root bool) string {
	for name, sub := range d.subdirs {
		if sha := o.write(sub, false); sha == "" {
			delete(d.entries, name)
		} else {
			d.entries[name] = treeEntry{Name: name, Mode: modeTree, SHA: sha}
		}
	}
	if len(d.entries) == 0 && !root {
		return ""
	}
	list := make([]treeEntry, 0, len(d.entries))
	for _, e := range d.entries {
		list = append(list, e)
	}
	return o.putTree(list)
}

// applyTree builds a new tree from base ("" for none) and edits, creating
// intermediate subtrees for nested paths.
func (o *objectStore) applyTree(base string, edits []treeEdit) string {
	root := o.loadDir(base)
	for _, ed := range edits {
		parts := strings.Split(ed.Path, "/")
		d := root
		for _, p := range parts[:len(parts)-1] {
			d = o.child(d, p)
		}
		leaf := parts[len(parts)-1]
		delete(d.subdirs, leaf)
		if ed.Delete {
			delete(d.entries, leaf)
			continue
		}
		d.entries[leaf] = treeEntry{Name: leaf, Mode: ed.Mode, SHA: ed.SHA}
	}
	return o.write(root, true)
}

// validMode reports whether the REST API accepts mode for a tree entry.
func validMode(mode string) bool {
	switch mode {
	case modeFile, modeExec, modeTree, modeCommit, modeSymlink:
		return true
	}
	return false
}

// typeForMode is the entry type a mode implies, to check the request's
// "type" against it.
func typeForMode(mode string) string {
	return treeEntry{Mode: mode}.kind()
}

// isSHA reports whether s looks like a full hex object id.
func isSHA(s string) bool {
	_, err := hex.DecodeString(s)
	return len(s) == 40 && err == nil
}

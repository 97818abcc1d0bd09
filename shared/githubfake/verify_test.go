package githubfake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"
)

// TestCommitVerification models GitHub's rule: only an App installation
// token with no custom author or committer gives a verified commit.
func TestCommitVerification(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, r, _ := newRepo(t, map[string]string{"f": "1"}, WithToken("ghp_user"))
	s.RegisterApp(42, &key.PublicKey, 7)
	app := appClient(s, 42, key, 7)
	user := s.Client()
	ctx := context.Background()
	head, _ := r.Branch("main")
	main, _ := r.Commit(head)
	tree := main.Tree
	custom := &github.CommitAuthor{Name: github.String("me"), Email: github.String("me@example.org")}
	for _, tt := range []struct {
		name         string
		c            *github.Client
		author       *github.CommitAuthor
		msg          string
		wantVerified bool
		wantReason   string
		wantAuthor   string
	}{
		{"app, no author", app, nil, "a", true, "valid", AppBot.Email},
		{"app, custom author", app, custom, "b", false, "unsigned", "me@example.org"},
		{"token, no author", user, nil, "c", false, "unsigned", fakeUser.Email},
		{"token, custom author", user, custom, "d", false, "unsigned", "me@example.org"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := &github.Commit{Message: github.String(tt.msg), Tree: &github.Tree{SHA: github.String(tree)},
				Parents: []*github.Commit{{SHA: github.String(head)}}, Author: tt.author}
			made, _, err := tt.c.Git.CreateCommit(ctx, "o", "r", in, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := tt.c.Git.GetCommit(ctx, "o", "r", made.GetSHA())
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []*github.Commit{made, got} {
				v := c.GetVerification()
				if v.GetVerified() != tt.wantVerified || v.GetReason() != tt.wantReason || c.GetAuthor().GetEmail() != tt.wantAuthor {
					t.Fatalf("verification %+v by %s, want %v %s by %s", v, c.GetAuthor().GetEmail(), tt.wantVerified, tt.wantReason, tt.wantAuthor)
				}
				if snap, _ := r.Commit(c.GetSHA()); snap.Verified != tt.wantVerified {
					t.Fatalf("snapshot verified %v", snap.Verified)
				}
				if tt.wantVerified && (v.GetSignature() == "" || !strings.Contains(v.GetPayload(), "tree "+tree)) {
					t.Fatalf("signature %q payload %q", v.GetSignature(), v.GetPayload())
				}
			}
		})
	}
}

package githubfake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v66/github"
)

func TestAppInstallationTokenFlow(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := newRepo(t, map[string]string{"f": "1"})
	s.RegisterApp(42, &key.PublicKey, 7)
	ctx := context.Background()

	// Registering an app turns auth on: anonymous calls fail.
	_, _, err = s.Client().Repositories.GetCommit(ctx, "o", "r", "main", nil)
	apiErr(t, err, http.StatusUnauthorized, "Bad credentials")

	for _, tt := range []struct {
		name           string
		installation   int64
		wantTokenCalls int
		wantOK         bool
	}{
		{"installed", 7, 1, true},
		{"unknown installation", 8, 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.ResetCalls()
			c := appClient(s, 42, key, tt.installation)
			_, _, err := c.Repositories.GetCommit(ctx, "o", "r", "main", nil)
			if (err == nil) != tt.wantOK {
				t.Fatalf("err %v, want ok=%v", err, tt.wantOK)
			}
			tokenCalls := 0
			for _, call := range s.Calls() {
				if call.Method == "POST" && strings.HasSuffix(call.Path, "/access_tokens") {
					tokenCalls++
				}
			}
			if tokenCalls != tt.wantTokenCalls || s.Mutations() != 0 {
				t.Fatalf("token calls %d (mutations %d) in %+v", tokenCalls, s.Mutations(), s.Calls())
			}
		})
	}
	if len(s.IssuedTokens()) != 1 {
		t.Fatalf("issued %v", s.IssuedTokens())
	}
}

func TestAppJWTFromAnotherKeyIsRejected(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	s, _, _ := newRepo(t, map[string]string{"f": "1"})
	s.RegisterApp(42, &key.PublicKey, 7)
	c := appClient(s, 42, other, 7)
	if _, _, err := c.Repositories.GetCommit(context.Background(), "o", "r", "main", nil); err == nil {
		t.Fatal("a JWT signed by the wrong key was accepted")
	}
}

// appClient is a go-github client authenticated as installation of App
// appID, signing its JWTs with key, through ghinstallation.
func appClient(s *Server, appID int64, key *rsa.PrivateKey, installation int64) *github.Client {
	itr := ghinstallation.NewFromAppsTransport(ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, appID, key), installation)
	itr.BaseURL = strings.TrimSuffix(s.URL(), "/") + "/api/v3"
	c, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(s.URL(), s.URL())
	if err != nil {
		panic(err) // the URL comes from httptest and always parses
	}
	return c
}

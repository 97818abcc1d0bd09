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
			itr := ghinstallation.NewFromAppsTransport(ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, 42, key), tt.installation)
			itr.BaseURL = strings.TrimSuffix(s.URL(), "/") + "/api/v3"
			c, _ := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(s.URL(), s.URL())
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
	itr := ghinstallation.NewFromAppsTransport(ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, 42, other), 7)
	itr.BaseURL = strings.TrimSuffix(s.URL(), "/")
	c, _ := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(s.URL(), s.URL())
	if _, _, err := c.Repositories.GetCommit(context.Background(), "o", "r", "main", nil); err == nil {
		t.Fatal("a JWT signed by the wrong key was accepted")
	}
}

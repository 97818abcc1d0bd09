package publish

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
)

func TestAppAuthRequestsInstallationToken(t *testing.T) {
	e := appEnv(t)

	first := e.mustRun(registry(10, 1), desired(1))
	second := e.mustRun(registry(10, 2), desired(2))
	if first.res.Action != ActionOpened || second.res.Action != ActionUpdated {
		t.Fatalf("%+v / %+v", first.res, second.res)
	}
	if n := e.callsTo("POST", "/app/installations/456/access_tokens"); n != 1 {
		t.Fatalf("%d token requests, want 1 (cached afterwards)", n)
	}
	if len(e.srv.IssuedTokens()) != 1 || e.onCall["POST app/installations/{id}/access_tokens 201"] != 1 {
		t.Fatalf("tokens %v, OnCall %v", e.srv.IssuedTokens(), e.onCall)
	}
	// The token request is a call but not a repository mutation.
	if first.res.Mutations != 5 {
		t.Fatalf("mutations %d", first.res.Mutations)
	}
}

func TestTokenStaysOnAPIHost(t *testing.T) {
	var got []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
	}))
	defer other.Close()
	base, _ := apiBaseURL("https://ghe.example.com/")
	if base.String() != "https://ghe.example.com/api/v3/" {
		t.Fatalf("enterprise base %s", base)
	}
	auth := &tokenAuth{token: "secret", host: base.Host, next: http.DefaultTransport}
	resp, err := (&http.Client{Transport: auth}).Get(other.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got) != 1 || got[0] != "" {
		t.Fatalf("token sent to another host: %q", got)
	}
	if def, _ := apiBaseURL(""); !strings.HasPrefix(def.String(), "https://api.github.com/") {
		t.Fatalf("default base %s", def)
	}
	_ = githubfake.Someone // the fake is this package's GitHub in every other test
}

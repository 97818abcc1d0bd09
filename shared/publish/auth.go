package publish

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v66/github"
)

// apiBaseURL is the REST root go-github should use: api.github.com, or
// the Enterprise URL (go-github adds "/api/v3/" when it is missing).
func apiBaseURL(apiURL string) (*url.URL, error) {
	c := github.NewClient(nil)
	if apiURL == "" {
		return c.BaseURL, nil
	}
	c, err := c.WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("GITHUB_API_URL %q: %w", apiURL, err)
	}
	return c.BaseURL, nil
}

// httpClient stacks authentication over the retrying Transport, so token
// requests of a GitHub App are retried and counted like every other call.
func httpClient(cfg Config, base *url.URL, tr *Transport) (*http.Client, error) {
	switch {
	case cfg.Token != "":
		return &http.Client{Transport: &tokenAuth{token: cfg.Token, host: base.Host, next: tr}}, nil
	case cfg.usesApp():
		itr, err := ghinstallation.NewKeyFromFile(tr, cfg.AppID, cfg.AppInstallationID, cfg.AppPrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("github app %d: %w", cfg.AppID, err)
		}
		itr.BaseURL = strings.TrimSuffix(base.String(), "/")
		return &http.Client{Transport: itr}, nil
	}
	return &http.Client{Transport: tr}, nil
}

// tokenAuth adds the token to requests for the API host only, so a
// redirect elsewhere never carries it.
type tokenAuth struct {
	token Secret
	host  string
	next  http.RoundTripper
}

func (t *tokenAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+string(t.token))
	return t.next.RoundTrip(r)
}

package githubfake

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
)

// RegisterApp lets a GitHub App authenticate: its JWTs (RS256, issuer =
// appID) are checked against key, and POST
// /app/installations/{id}/access_tokens issues installation tokens for
// the given installations, which the repository endpoints then accept.
// Registering an app turns on authentication for every call.
func (s *Server) RegisterApp(appID int64, key *rsa.PublicKey, installationIDs ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &appInstall{key: key, installations: map[int64]bool{}}
	for _, id := range installationIDs {
		a.installations[id] = true
	}
	s.apps[appID] = a
}

// appFromJWT verifies the App JWT and returns the app it names.
func (s *Server) appFromJWT(token string) (*appInstall, error) {
	var claims jwt.RegisteredClaims
	var app *appInstall
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodRS256 {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		iss, ok := t.Claims.(*jwt.RegisteredClaims)
		if !ok {
			return nil, fmt.Errorf("no claims")
		}
		id, err := strconv.ParseInt(iss.Issuer, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("issuer %q is not an app id", iss.Issuer)
		}
		if app = s.apps[id]; app == nil {
			return nil, fmt.Errorf("unknown app %d", id)
		}
		return app.key, nil
	})
	return app, err
}

// installationTokenPrefix starts the installation tokens the fake issues.
const installationTokenPrefix = "ghs_fakeinstallation"

func (s *Server) createInstallationToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeError(w, http.StatusUnauthorized, "A JSON web token could not be decoded", docsURL)
		return
	}
	app, err := s.appFromJWT(tok)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "A JSON web token could not be decoded", docsURL)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if !app.installations[id] {
		notFound(w)
		return
	}
	token := fmt.Sprintf("%s%d_%d", installationTokenPrefix, id, s.newID())
	s.tokens[token] = true
	// ghinstallation compares expires_at with the real clock, so this one
	// stays on real time whatever clock the fake uses.
	writeJSON(w, http.StatusCreated, map[string]any{
		"token": token, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"contents": "write", "pull_requests": "write"},
		"repository_selection": "all",
	})
}

// IssuedTokens lists the installation tokens handed out so far.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t := range s.tokens {
		if strings.HasPrefix(t, installationTokenPrefix) {
			out = append(out, t)
		}
	}
	return out
}

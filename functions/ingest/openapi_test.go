package ingest

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// TestOpenAPIMatchesHandler sends real requests to the handler and checks
// each request and response against openapi.yaml, so the spec cannot drift
// from the code. Requests the code refuses must be refused by the spec too.
func TestOpenAPIMatchesHandler(t *testing.T) {
	ctx := context.Background()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "a="+tokenA+"\n*="+tokenAll, func(o *Options) { o.MaxItems = 1000; o.MaxBodyBytes = 1 << 20 })
	e.store.SetClaimLimit(3)
	batch := batchJSON("a", item("ns/one", "ok", "2026-11-25T10:00:00Z", `"uid":"u1"`, `"kind":"PostgreSQL.database.example.org"`, `"generation":2`))
	cases := []struct {
		name, method, path, token, ctype, body string
		code                                   int
		specAccepts                            bool // the request conforms to the spec
	}{
		{"seed post", "POST", "/api/v1/status", tokenA, "application/json", `{"cluster":"a","claimRef":"ns/seed","statusMessage":"Available"}`, 201, true},
		{"batch", "POST", "/api/v1/statuses", tokenA, "application/json", batch, 200, true},
		{"list all", "GET", "/api/v1/status", tokenAll, "", "", 200, true},
		{"list cluster", "GET", "/api/v1/status/a", tokenA, "", "", 200, true},
		{"list page", "GET", "/api/v1/status?limit=1", tokenAll, "", "", 200, true},
		{"list cluster page filtered", "GET", "/api/v1/status/a?limit=1&ready=True", tokenA, "", "", 200, true},
		{"list bad limit", "GET", "/api/v1/status?limit=0", tokenAll, "", "", 400, false},
		{"list bad ready", "GET", "/api/v1/status/a?ready=yes", tokenA, "", "", 400, false},
		{"claim limit", "POST", "/api/v1/statuses", tokenA, "application/json", batchJSON("a", item("ns/x1", "m", "2026-11-25T10:00:00Z"), item("ns/x2", "m", "2026-11-25T10:00:00Z")), 409, true},
		{"clusters", "GET", "/api/v1/clusters", tokenAll, "", "", 200, true},
		{"healthz", "GET", "/healthz", "", "", "", 200, true},
		{"readyz", "GET", "/readyz", "", "", "", 200, true},
		{"version", "GET", "/version", "", "", "", 200, true},
		{"metrics", "GET", "/metrics", "", "", "", 200, true},
		{"claims", "GET", "/api/v1/claims?state=all&kind=PostgreSQL.database.example.org&q=ok&limit=5", tokenAll, "", "", 200, true},
		{"claims bad limit", "GET", "/api/v1/claims?limit=0", tokenAll, "", "", 400, false},
		{"overview", "GET", "/api/v1/overview", tokenA, "", "", 200, true},
		{"no token", "POST", "/api/v1/statuses", "", "application/json", batch, 401, true},
		{"other cluster", "GET", "/api/v1/status/b", tokenA, "", "", 403, true},
		{"missing field", "POST", "/api/v1/status", tokenA, "application/json", `{"cluster":"a","claimRef":"ns/x"}`, 400, false},
		{"bad ready", "POST", "/api/v1/statuses", tokenA, "application/json", batchJSON("a", item("ns/x", "m", "2026-11-25T10:00:00Z", `"ready":"yes"`)), 400, false},
		{"empty batch", "POST", "/api/v1/statuses", tokenA, "application/json", `{"cluster":"a","items":[]}`, 400, false},
		{"message too long", "POST", "/api/v1/status", tokenA, "application/json", `{"cluster":"a","claimRef":"ns/x","statusMessage":"` + strings.Repeat("x", 4097) + `"}`, 400, false},
		{"not json", "POST", "/api/v1/status", tokenA, "text/plain", "hello", 415, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "http://localhost:8095"+c.path, strings.NewReader(c.body))
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("spec has no route for %s %s: %v", c.method, c.path, err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
			reqErr := openapi3filter.ValidateRequest(ctx, in)
			if c.specAccepts && reqErr != nil {
				t.Fatalf("spec refuses a request the handler serves: %v", reqErr)
			}
			if !c.specAccepts && reqErr == nil {
				t.Fatalf("spec accepts a request the handler refuses with %d", c.code)
			}
			// The validator consumed the body; send a fresh copy to the handler.
			req.Body = io.NopCloser(strings.NewReader(c.body))
			rec := httptest.NewRecorder()
			e.fn.ServeHTTP(rec, req)
			if rec.Code != c.code {
				t.Fatalf("handler answered %d %s, want %d", rec.Code, rec.Body, c.code)
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
				Options: &openapi3filter.Options{IncludeResponseStatus: true}}
			out.SetBodyBytes(bytes.Clone(rec.Body.Bytes()))
			if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
				t.Fatalf("response %d %s does not match the spec: %v", rec.Code, rec.Body, err)
			}
		})
	}
}

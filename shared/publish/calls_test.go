package publish

import (
	"context"
	"testing"
)

func TestEndpoint(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{"GET", "/api/v3/repos/o/r/contents/deep/registry.yaml", "GET contents/{path}"},
		{"GET", "/repos/o/r/git/blobs/abc", "GET git/blobs/{sha}"},
		{"POST", "/repos/o/r/git/trees", "POST git/trees"},
		{"GET", "/repos/o/r/git/trees/abc", "GET git/trees/{sha}"},
		{"POST", "/repos/o/r/git/commits", "POST git/commits"},
		{"GET", "/repos/o/r/git/commits/abc", "GET git/commits/{sha}"},
		{"GET", "/repos/o/r/git/ref/heads/machinery-status-collector/registry", "GET git/ref/{ref}"},
		{"POST", "/repos/o/r/git/refs", "POST git/refs"},
		{"PATCH", "/repos/o/r/git/refs/heads/a/b", "PATCH git/refs/{ref}"},
		{"DELETE", "/repos/o/r/git/refs/heads/a", "DELETE git/refs/{ref}"},
		{"GET", "/repos/o/r/commits/main", "GET commits/{ref}"},
		{"GET", "/repos/o/r/pulls", "GET pulls"},
		{"PATCH", "/repos/o/r/pulls/12", "PATCH pulls/{number}"},
		{"POST", "/repos/o/r/issues/12/comments", "POST issues/{number}/comments"},
		{"POST", "/repos/o/r/issues/12/labels", "POST issues/{number}/labels"},
		{"POST", "/api/v3/app/installations/99/access_tokens", "POST app/installations/{id}/access_tokens"},
		{"GET", "/repos/o/r/branches/x", "GET repos/other"},
		{"GET", "/repos/o", "GET repos/other"},
		{"GET", "/user", "GET other"},
	}
	for _, tt := range tests {
		if got := Endpoint(tt.method, tt.path); got != tt.want {
			t.Errorf("Endpoint(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestCallCountersNest(t *testing.T) {
	ctx, run := CountCalls(context.Background())
	inner, step := CountCalls(ctx)
	count(inner, true)
	count(ctx, false)
	count(context.Background(), true) // no counter: ignored
	if run.Calls() != 2 || run.Mutations() != 1 || step.Calls() != 1 || step.Mutations() != 1 {
		t.Fatalf("run %d/%d step %d/%d", run.Calls(), run.Mutations(), step.Calls(), step.Mutations())
	}
	if isMutating("POST", "POST app/installations/{id}/access_tokens") || !isMutating("DELETE", "DELETE git/refs/{ref}") || isMutating("GET", "GET pulls") {
		t.Fatal("isMutating")
	}
}

package publish

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
)

// CallCounter counts the GitHub calls made with a context (every HTTP
// attempt, retries included). Counters nest: a call counts in every
// counter of its context chain.
type CallCounter struct {
	parent    *CallCounter
	calls     atomic.Int64
	mutations atomic.Int64
}

type counterKey struct{}

// CountCalls returns a context whose GitHub calls are counted by the
// returned counter, e.g. for a whole reconcile run.
func CountCalls(ctx context.Context) (context.Context, *CallCounter) {
	parent, _ := ctx.Value(counterKey{}).(*CallCounter)
	c := &CallCounter{parent: parent}
	return context.WithValue(ctx, counterKey{}, c), c
}

// Calls is the number of calls counted so far.
func (c *CallCounter) Calls() int { return int(c.calls.Load()) }

// Mutations is the number of counted calls that could change GitHub state.
func (c *CallCounter) Mutations() int { return int(c.mutations.Load()) }

// count adds one call to every counter in ctx.
func count(ctx context.Context, mutating bool) {
	c, _ := ctx.Value(counterKey{}).(*CallCounter)
	for ; c != nil; c = c.parent {
		c.calls.Add(1)
		if mutating {
			c.mutations.Add(1)
		}
	}
}

// isMutating: anything but a read, except minting an App installation
// token, which changes nothing in the repository.
func isMutating(method, endpoint string) bool {
	return method != http.MethodGet && method != http.MethodHead && !strings.HasPrefix(endpoint, "POST app/")
}

// endpointRoutes maps a path below /repos/{owner}/{repo}/ to a label of
// bounded cardinality; "*" is one segment, "**" the rest of the path.
var endpointRoutes = []struct{ pattern, label string }{
	{"contents/**", "contents/{path}"},
	{"git/blobs", "git/blobs"},
	{"git/blobs/*", "git/blobs/{sha}"},
	{"git/trees", "git/trees"},
	{"git/trees/**", "git/trees/{sha}"},
	{"git/commits", "git/commits"},
	{"git/commits/*", "git/commits/{sha}"},
	{"git/ref/**", "git/ref/{ref}"},
	{"git/refs", "git/refs"},
	{"git/refs/**", "git/refs/{ref}"},
	{"commits/*/check-runs", "commits/{ref}/check-runs"},
	{"commits/*/status", "commits/{ref}/status"},
	{"commits/**", "commits/{ref}"},
	{"pulls", "pulls"},
	{"pulls/*", "pulls/{number}"},
	{"pulls/*/merge", "pulls/{number}/merge"},
	{"pulls/*/requested_reviewers", "pulls/{number}/requested_reviewers"},
	{"issues/*/assignees", "issues/{number}/assignees"},
	{"issues/*/comments", "issues/{number}/comments"},
	{"issues/*/labels", "issues/{number}/labels"},
}

// Endpoint names a request for metrics and logs: the method and the
// route relative to the repository, e.g. "PATCH git/refs/{ref}" or
// "POST app/installations/{id}/access_tokens". It never contains ids,
// SHAs, branch names or query strings, so it is safe as a label.
func Endpoint(method, path string) string {
	if i := strings.Index(path, "/app/installations/"); i >= 0 && strings.HasSuffix(path, "/access_tokens") {
		return method + " app/installations/{id}/access_tokens"
	}
	i := strings.Index(path, "/repos/")
	if i < 0 {
		return method + " other"
	}
	parts := strings.SplitN(path[i+len("/repos/"):], "/", 3) // owner, repo, rest
	if len(parts) < 3 {
		return method + " repos/other"
	}
	segs := strings.Split(strings.Trim(parts[2], "/"), "/")
	for _, r := range endpointRoutes {
		if matchRoute(strings.Split(r.pattern, "/"), segs) {
			return method + " " + r.label
		}
	}
	return method + " repos/other"
}

func matchRoute(pattern, segs []string) bool {
	for i, p := range pattern {
		if p == "**" {
			return len(segs) > i
		}
		if i >= len(segs) || (p != "*" && p != segs[i]) {
			return false
		}
	}
	return len(segs) == len(pattern)
}

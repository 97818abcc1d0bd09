package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTokensFileReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte("a="+tokenA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tk, err := ParseTokens([]byte("a=" + tokenA))
	if err != nil {
		t.Fatal(err)
	}
	static, _ := ParseTokens([]byte("*=" + tokenAll))
	e := newEnv(t, "", func(o *Options) { o.Tokens = static.with(tk) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.fn.WatchTokensFile(ctx, path, static, 5*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })

	post := func(token, cluster string) int {
		code, _, _ := e.do("POST", "/api/v1/statuses", token, "application/json", batchJSON(cluster, item("ns/x", "m", "2026-11-25T10:00:00Z")))
		return code
	}
	if post(tokenB, "b") != 401 || post(tokenA, "a") != 200 {
		t.Fatal("initial tokens not in force")
	}
	// A broken file keeps the old tokens.
	replaceFile(t, path, "b=short\n")
	waitLog(t, e, "does not parse")
	if post(tokenA, "a") != 200 {
		t.Fatal("a broken tokens file dropped the working tokens")
	}
	// Rotate: b added, a removed; the static wildcard stays.
	replaceFile(t, path, "b="+tokenB+"\n")
	waitLog(t, e, "INGEST_TOKENS_FILE reloaded")
	if post(tokenB, "b") != 200 || post(tokenA, "a") != 401 || post(tokenAll, "a") != 200 {
		t.Fatal("reloaded tokens not in force")
	}
	for _, tok := range []string{tokenA, tokenB, tokenAll} {
		if strings.Contains(e.log.String(), tok) {
			t.Fatalf("log holds a token: %s", e.log.String())
		}
	}
}

// replaceFile swaps path's content in one rename, as Kubernetes updates a
// mounted Secret: a plain rewrite lets the watcher read the truncated,
// empty file in between, which parses (no tokens) and is loaded.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitLog polls the function's log for want.
func waitLog(t *testing.T, e *env, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", want, e.log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// watchEnv serves a Function whose tokens are static (a "*" token, as
// INGEST_TOKENS) plus those of a tokens file holding initial, with the
// file watched every interval until the test ends.
func watchEnv(t *testing.T, initial string, interval time.Duration) (*env, string) {
	return watchEnvStatic(t, "*="+tokenAll, initial, interval)
}

// watchEnvStatic is watchEnv with the static tokens given ("" for none,
// the overlays' setup: INGEST_TOKENS_FILE alone).
func watchEnvStatic(t *testing.T, staticTokens, initial string, interval time.Duration) (*env, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(initial), 0o600); err != nil {
		t.Fatal(err)
	}
	fileTokens, err := ParseTokens([]byte(initial))
	if err != nil {
		t.Fatal(err)
	}
	static, _ := ParseTokens([]byte(staticTokens))
	e := newEnv(t, "", func(o *Options) { o.Tokens = static.with(fileTokens) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.fn.WatchTokensFile(ctx, path, static, []byte(initial), interval) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, path
}

// post sends a one-item batch for cluster with token and returns the code.
func (e *env) post(token, cluster string) int {
	code, _, _ := e.do("POST", "/api/v1/statuses", token, "application/json", batchJSON(cluster, item("ns/x", "m", "2026-11-25T10:00:00Z")))
	return code
}

// TestTokensFileReload walks a tokens file through every way it can go
// bad: each keeps the previous tokens, logs an ERROR with the path and the
// reason, and counts a failure; auth never opens. Then a rotation is
// adopted. Writes are os.WriteFile, a truncate and a write in place, so the
// poller races them on every step.
func TestTokensFileReload(t *testing.T) {
	e, path := watchEnv(t, "a="+tokenA+"\n", 2*time.Millisecond)
	if e.post(tokenB, "b") != 401 || e.post(tokenA, "a") != 200 {
		t.Fatal("initial tokens not in force")
	}
	for _, step := range []struct {
		name   string
		break_ func() // makes the file bad in a new way
		reason string // the ERROR line's reason
	}{
		{"garbage", func() { os.WriteFile(path, []byte("\x00\x01 not a token file"), 0o600) }, "does not parse: line 1: entry must be cluster=token"},
		{"short token", func() { os.WriteFile(path, []byte("b=short\n"), 0o600) }, "does not parse: line 1: token for cluster b is shorter than 16 characters"},
		{"empty", func() { os.WriteFile(path, nil, 0o600) }, "holds no token (an empty Secret would open the API)"},
		{"comments only", func() { os.WriteFile(path, []byte("# all gone\n"), 0o600) }, "holds no token (an empty Secret would open the API)"},
		{"missing", func() { os.Remove(path) }, "cannot read it: no such file or directory"},
		{"unreadable", func() { os.Mkdir(path, 0o700) }, "cannot read it: is a directory"},
	} {
		t.Run(step.name, func(t *testing.T) {
			line := `"level":"ERROR","msg":"INGEST_TOKENS_FILE reload failed; keeping the previous tokens","path":"` + path + `","reason":"` + step.reason + `","tokensInForce":2`
			seen, before := strings.Count(e.log.String(), line), testutil.ToFloat64(e.fn.tokenReloadFailures)
			step.break_()
			waitLogCount(t, e, line, seen+1)
			if got := testutil.ToFloat64(e.fn.tokenReloadFailures); got <= before {
				t.Errorf("failed reloads %v -> %v, want an increase", before, got)
			}
			if e.post("", "a") != 401 || e.post(tokenB, "b") != 401 {
				t.Fatal("auth opened")
			}
			if e.post(tokenA, "a") != 200 || e.post(tokenAll, "a") != 200 {
				t.Fatal("a bad tokens file dropped the working tokens")
			}
		})
	}
	os.Remove(path)
	// Rotate: b added, a removed; the static wildcard stays.
	os.WriteFile(path, []byte("b="+tokenB+"\n"), 0o600)
	waitLog(t, e, `"msg":"INGEST_TOKENS_FILE reloaded","path":"`+path+`","tokens":2`)
	if e.post(tokenB, "b") != 200 || e.post(tokenA, "a") != 401 || e.post(tokenAll, "a") != 200 {
		t.Fatal("reloaded tokens not in force")
	}
	if _, _, body := e.do("GET", "/metrics", "", "", ""); !strings.Contains(body, "\nmsc_ingest_tokens 2\n") || !strings.Contains(body, "\nmsc_ingest_token_reload_failures_total ") {
		t.Errorf("metrics lack the tokens in force (2) or the failed reloads:\n%s", body)
	}
	if got := testutil.ToFloat64(e.fn.tokenReloadFailures); got < 6 {
		t.Errorf("failed reloads = %v, want at least one per bad step", got)
	}
	for _, tok := range []string{tokenA, tokenB, tokenAll} {
		if strings.Contains(e.log.String(), tok) {
			t.Fatalf("log holds a token: %s", e.log.String())
		}
	}
}

// TestTokensFileEmptiedAlone is the overlays' setup, INGEST_TOKENS_FILE
// alone: emptying the file must not open the API.
func TestTokensFileEmptiedAlone(t *testing.T) {
	e, path := watchEnvStatic(t, "", "a="+tokenA+"\n", 2*time.Millisecond)
	os.WriteFile(path, []byte("# rotated away\n"), 0o600)
	waitLog(t, e, `"reason":"holds no token (an empty Secret would open the API)","tokensInForce":1`)
	os.WriteFile(path, nil, 0o600)
	waitLogCount(t, e, `"reason":"holds no token (an empty Secret would open the API)","tokensInForce":1`, 2)
	if code := e.post("", "a"); code != 401 {
		t.Fatalf("POST without a token after the file was emptied: %d", code)
	}
	if code, _, _ := e.do("GET", "/api/v1/status", "", "", ""); code != 401 {
		t.Fatalf("GET without a token after the file was emptied: %d", code)
	}
}

// TestTokensFileTornWrite drives the poller by hand through a rewrite in
// place that a poll catches half written: the torn content parses (it ends
// at a line boundary) but is never put in force; the whole file is, once
// two polls read it unchanged.
func TestTokensFileTornWrite(t *testing.T) {
	const tokenC = "token-for-cluster-c"
	old := "a=" + tokenA + "\n"
	whole := "b=" + tokenB + "\nc=" + tokenC + "\n"
	torn := whole[:strings.Index(whole, "c=")]
	e, path := watchEnv(t, old, time.Hour) // the ticker never fires: polls are the test's
	w := &tokensWatch{f: e.fn, path: path, static: Tokens{}, inForce: digest([]byte(old)), seen: digest([]byte(old))}
	inForce := func() string {
		var held []string
		for _, tc := range []struct{ tok, cluster string }{{tokenA, "a"}, {tokenB, "b"}, {tokenC, "c"}} {
			if _, ok := e.fn.tokens.Load().Cluster(tc.tok); ok {
				held = append(held, tc.cluster)
			}
		}
		return strings.Join(held, ",")
	}
	for i, step := range []struct {
		content string // written in place before the poll; "" keeps the file
		want    string // clusters whose tokens are in force after the poll
	}{
		{torn, "a"},  // first sight of new content: wait
		{whole, "a"}, // it changed since: wait again
		{"", "b,c"},  // unchanged for a poll: adopted whole
		{"", "b,c"},
		{torn, "b,c"}, // caught half written again
	} {
		if step.content != "" {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(step.content)
			f.Close()
		}
		w.poll()
		if got := inForce(); got != step.want {
			t.Fatalf("after poll %d: tokens of %q in force, want %q", i, got, step.want)
		}
	}
}

// TestTokensFileRewriteRace rewrites the tokens file in place, truncate
// then two writes, as fast as it can while the poller reads it every
// millisecond and clients without a valid token keep asking: auth never
// opens, and once the writer stops its last content is in force.
func TestTokensFileRewriteRace(t *testing.T) {
	const tokenC = "token-for-cluster-c"
	contents := []string{"a=" + tokenA + "\nb=" + tokenB + "\n", "a=" + tokenA + "\nc=" + tokenC + "\n"}
	e, path := watchEnv(t, contents[0], time.Millisecond)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c := contents[i%2]
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Error(err)
				return
			}
			half := len(c) / 2
			f.WriteString(c[:half])
			f.WriteString(c[half:])
			f.Close()
		}
	}()
	deadline := time.Now().Add(time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		if code := e.post("", "x"); code != 401 {
			t.Fatalf("request %d without a token: %d", n, code)
		}
		if code := e.post("not-a-token-of-anyone", "x"); code != 401 {
			t.Fatalf("request %d with an unknown token: %d", n, code)
		}
		if e.fn.tokens.Load().Len() == 0 {
			t.Fatal("zero tokens in force")
		}
	}
	close(stop)
	wg.Wait()
	last := contents[0]
	os.WriteFile(path, []byte(last), 0o600)
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, hasB := e.fn.tokens.Load().Cluster(tokenB)
		_, hasC := e.fn.tokens.Load().Cluster(tokenC)
		if hasB && !hasC {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the last content never came into force")
		}
		time.Sleep(time.Millisecond)
	}
}

// waitLog polls the function's log for want.
func waitLog(t *testing.T, e *env, want string) {
	t.Helper()
	waitLogCount(t, e, want, 1)
}

// waitLogCount polls the function's log until it holds want n times.
func waitLogCount(t *testing.T, e *env, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(e.log.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", want, e.log.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

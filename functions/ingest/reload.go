package ingest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// WatchTokensFile re-reads the tokens file at path every interval until
// ctx ends and puts static (the INGEST_TOKENS ones) plus the file's tokens
// in force when the file changed. initial is the content the tokens in
// force came from. A Kubernetes Secret volume updates in place, so a new
// cluster's token works without a restart.
//
// It fails closed: a file that is unreadable, empty, does not parse or
// holds no token keeps the previous tokens, counts a failed reload and
// logs an ERROR with the path and the reason, never a token.
//
// A file rewritten in place (truncate, then write) is never adopted half
// written: new content is adopted only once two polls one interval apart
// read the same bytes and the file's size and mtime did not move during
// either read. A torn read is a state the writer passes through, so the
// next poll reads something else and the torn bytes are dropped; only a
// writer that stalls mid-file for a whole interval (30 s deployed) could
// leave a partial file that looks settled, and even that is adopted only
// if it parses and holds a token. Kubernetes swaps Secret volumes through
// a symlink, so it never exposes a torn file at all.
func (f *Function) WatchTokensFile(ctx context.Context, path string, static Tokens, initial []byte, interval time.Duration) {
	w := &tokensWatch{f: f, path: path, static: static, inForce: digest(initial), seen: digest(initial)}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll()
		}
	}
}

// tokensWatch is WatchTokensFile's state between polls. It keeps digests
// of the file's content, never the content: like Tokens, it holds no token.
type tokensWatch struct {
	f       *Function
	path    string
	static  Tokens
	inForce string // digest of the content the tokens in force came from
	seen    string // digest of what the previous poll read; "" when it read nothing stable
	failed  string // the last failure reported (reason and digest), so a bad file is reported once, not every poll
}

// digest is the SHA-256 of a file's content, as a comparable string.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// errChanging says the file moved while it was read.
var errChanging = errors.New("the file changed while it was read")

// poll reads the file once and adopts its content when it has settled.
func (w *tokensWatch) poll() {
	b, err := readSettled(w.path)
	if errors.Is(err, errChanging) {
		w.seen = ""
		return
	}
	if err != nil {
		w.seen = ""
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is logged on its own
		}
		w.fail(fmt.Sprintf("cannot read it: %v", err), "")
		return
	}
	d := digest(b)
	if d == w.inForce {
		w.seen, w.failed = d, ""
		return
	}
	if d != w.seen {
		w.seen = d // new content: adopt it only if the next poll reads it again
		return
	}
	parsed, err := ParseTokens(b)
	switch {
	case err != nil:
		w.fail(fmt.Sprintf("does not parse: %v", err), d)
		return
	case parsed.Len() == 0:
		w.fail("holds no token (an empty Secret would open the API)", d)
		return
	}
	all := w.static.with(parsed)
	w.f.tokens.Store(&all)
	w.inForce, w.failed = d, ""
	w.f.log.Info("INGEST_TOKENS_FILE reloaded", "path", w.path, "tokens", all.Len())
}

// fail reports a reload that keeps the previous tokens, once per reason
// and content digest.
func (w *tokensWatch) fail(reason, contentDigest string) {
	key := reason + "\x00" + contentDigest
	if key == w.failed {
		return
	}
	w.failed = key
	w.f.tokenReloadFailures.Inc()
	w.f.log.Error("INGEST_TOKENS_FILE reload failed; keeping the previous tokens",
		"path", w.path, "reason", reason, "tokensInForce", w.f.tokens.Load().Len())
}

// readSettled reads path and returns errChanging unless its size and
// modification time are the same before and after the read and the size
// matches what was read.
func readSettled(path string) ([]byte, error) {
	before, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	after, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if before.Size() != after.Size() || !before.ModTime().Equal(after.ModTime()) || int64(len(b)) != after.Size() {
		return nil, errChanging
	}
	return b, nil
}

// newTokenMetrics registers the gauge of tokens in force (read at scrape
// time) and returns the counter of failed reloads.
func newTokenMetrics(reg prometheus.Registerer, f *Function) prometheus.Counter {
	failures := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "msc_ingest_token_reload_failures_total",
		Help: "Re-reads of INGEST_TOKENS_FILE that kept the previous tokens: unreadable, empty, unparsable or without a token.",
	})
	inForce := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "msc_ingest_tokens",
		Help: "Bearer tokens in force; 0 only when the API runs open (INGEST_AUTH=none, or make run without tokens).",
	}, func() float64 { return float64(f.tokens.Load().Len()) })
	reg.MustRegister(failures, inForce)
	return failures
}

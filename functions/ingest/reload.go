package ingest

import (
	"bytes"
	"context"
	"os"
	"time"
)

// WatchTokensFile re-reads the tokens file at path every interval until ctx
// ends and, when its content changed and parses, swaps the Function's
// tokens for static (the INGEST_TOKENS ones) plus the file's. A Kubernetes
// Secret volume updates in place, so a new cluster's token works without a
// restart. A file that does not parse keeps the previous tokens and logs
// the problem (never a token).
func (f *Function) WatchTokensFile(ctx context.Context, path string, static Tokens, interval time.Duration) {
	last, _ := os.ReadFile(path)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.log.Error("re-read INGEST_TOKENS_FILE; keeping the previous tokens", "path", path, "err", err)
			continue
		}
		if bytes.Equal(b, last) {
			continue
		}
		last = b
		parsed, err := ParseTokens(b)
		if err != nil {
			f.log.Error("INGEST_TOKENS_FILE changed but does not parse; keeping the previous tokens", "path", path, "err", err)
			continue
		}
		all := static.with(parsed)
		f.tokens.Store(&all)
		f.log.Info("INGEST_TOKENS_FILE reloaded", "path", path, "tokens", all.Len())
	}
}

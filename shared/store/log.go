package store

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// slogAdapter sends go-redis's internal messages (dial failures, pool
// trouble) to slog as warnings instead of plain lines on stderr.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Printf(ctx context.Context, format string, v ...any) {
	a.log.WarnContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}

// UseLogger routes go-redis's process-wide log through log. Mains call it
// once at start.
func UseLogger(log *slog.Logger) {
	redis.SetLogger(slogAdapter{log: log})
}

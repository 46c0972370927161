package main

import (
	"context"
	"time"
)

// janitorEvery is how often the server forgets expired idempotency keys.
const janitorEvery = time.Hour

// runJanitor purges expired idempotency keys until ctx ends. Several server
// processes may run it at once: the delete is idempotent.
func runJanitor(ctx context.Context, a *app) {
	every(ctx, janitorEvery, func(ctx context.Context) {
		n, err := a.svc.PurgeExpiredIdempotencyKeys(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Warn("purge idempotency keys", "err", err)
		case n > 0:
			a.log.Info("purged expired idempotency keys", "count", n)
		}
	})
}

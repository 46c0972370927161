package main

import (
	"context"
	"time"
)

// every runs step now and then every d until ctx ends (the server's
// background work: billing runs, the idempotency janitor).
func every(ctx context.Context, d time.Duration, step func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		step(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

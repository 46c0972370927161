package main

import (
	"context"
	"time"
)

// billingEvery is how often the server runs billing: the invoices of the
// periods, trials and cancellations that fell due since the last run.
const billingEvery = time.Minute

// runBillingWorker runs the live mode's billing until ctx ends (test mode
// bills when its test clock is advanced). Several server processes may run it
// at once: each subscription is billed holding its row lock, and a unique
// index keeps one invoice per subscription and period.
func runBillingWorker(ctx context.Context, a *app) {
	every(ctx, billingEvery, func(ctx context.Context) {
		r, err := a.svc.RunDueBilling(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Warn("billing run", "err", err)
		case err == nil && (len(r.Invoices) > 0 || len(r.Failed) > 0):
			a.log.Info("billing run", "subscriptions", len(r.Subscriptions), "invoices", len(r.Invoices), "failed", len(r.Failed))
		}
	})
}

package service

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Bounds of one billing run: subscriptions fetched at a time, and batches.
const (
	runBatch      = 100
	maxRunBatches = 10_000
)

// TestClock is the test mode's clock: billing in test mode (periods, trials,
// invoices) runs at its time, which only moves when advanced. Live mode runs
// at the real time.
type TestClock struct {
	Mode string    `json:"mode" enum:"test"`
	Now  time.Time `json:"now"`
}

// RunResult is what a billing run did, as far as the caller can see.
type RunResult struct {
	Mode          string       `json:"mode" enum:"live,test"`
	Now           time.Time    `json:"now" doc:"the billing time the run worked up to"`
	Subscriptions []int64      `json:"subscriptions" doc:"subscriptions whose due work was done"`
	Invoices      []int64      `json:"invoices" doc:"invoices issued"`
	Failed        []RunFailure `json:"failed" doc:"subscriptions whose work failed (they are retried by the next run)"`
}

// RunFailure is a subscription the run could not bill.
type RunFailure struct {
	SubscriptionsID int64  `json:"subscriptions_id"`
	Code            string `json:"code"`
	Message         string `json:"message"`
}

// ClockAdvance are the params of billing.test_clock.advance.
type ClockAdvance struct {
	To *Time  `json:"to" doc:"the new time (not before the clock's)"`
	By string `json:"by" doc:"or a duration to add: 36h, 90m, 14d"`
}

// Validate checks that exactly one of to and by is given.
func (p *ClockAdvance) Validate() error {
	if (p.To == nil) == (p.By == "") {
		return InvalidField("to", "give either to or by")
	}
	if p.By != "" {
		if _, err := parseAdvance(p.By); err != nil {
			return InvalidField("by", err.Error())
		}
	}
	return nil
}

// parseAdvance reads a Go duration or whole days ("14d").
func parseAdvance(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 36600 {
			return 0, errString("must be a duration such as 36h or 14d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errString("must be a duration such as 36h or 14d")
	}
	return d, nil
}

// ClockAdvanced is the answer of billing.test_clock.advance: the clock, and
// the run of the work that became due.
type ClockAdvanced struct {
	Clock *TestClock `json:"clock"`
	Run   *RunResult `json:"run"`
}

// testModeOnly refuses live callers: the test clock exists in test mode only.
func testModeOnly(ctx context.Context) error {
	if p := PrincipalFrom(ctx); p == nil || p.Live {
		return Errorf(CodeForbidden, "the test clock is for test mode: use a test_ API key")
	}
	return nil
}

// registerBilling registers the billing lifecycle (issue 6): catalog,
// subscriptions, invoices, runs and the test clock; and its second part
// (issue 7).
func (s *Service) registerBilling() {
	s.registerProducts()
	s.registerPrices()
	s.registerPlans()
	s.registerSubscriptions()
	s.registerInvoices()
	s.registerBillingRuns()
	s.registerBillingII()
}

func (s *Service) registerBillingRuns() {
	r := s.registry
	Register(r, Decl[NoParams, *RunResult]{
		Name: "billing.run", Summary: "Run billing now in the caller's scope and mode: issue the invoices that are due (the server does it every minute in live mode).",
		HTTP: Route{Verb: "POST", Path: "/billing/run"},
		Do: func(ctx context.Context, _ *NoParams) (*RunResult, error) {
			now, err := s.billingNow(ctx)
			if err != nil {
				return nil, err
			}
			return s.runDue(ctx, now)
		},
	})
	Register(r, Decl[NoParams, *TestClock]{
		Name: "billing.test_clock.get", Summary: "The test mode's clock (test keys only).",
		HTTP: Route{Verb: "GET", Path: "/billing/test-clock"},
		Do: func(ctx context.Context, _ *NoParams) (*TestClock, error) {
			if err := testModeOnly(ctx); err != nil {
				return nil, err
			}
			return s.store.TestClock(ctx, s.clock.Now())
		},
	})
	Register(r, Decl[ClockAdvance, *ClockAdvanced]{
		Name: "billing.test_clock.advance", Summary: "Move the test clock forward and run the billing it makes due before answering (test keys only).",
		HTTP: Route{Verb: "POST", Path: "/billing/test-clock/advance"}, Do: s.advanceTestClock,
	})
}

// billingNow is the billing time of the caller's mode: the real clock in live
// mode, the test clock in test mode (started at the real time on first use).
func (s *Service) billingNow(ctx context.Context) (time.Time, error) {
	if p := PrincipalFrom(ctx); p == nil || p.Live {
		return s.clock.Now(), nil
	}
	c, err := s.store.TestClock(ctx, s.clock.Now())
	if err != nil {
		return time.Time{}, err
	}
	return c.Now, nil
}

func (s *Service) advanceTestClock(ctx context.Context, p *ClockAdvance) (*ClockAdvanced, error) {
	if err := testModeOnly(ctx); err != nil {
		return nil, err
	}
	var clock *TestClock
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockTestClock(ctx, s.clock.Now())
		if err != nil {
			return err
		}
		to := cur.Now
		if p.To != nil {
			to = p.To.UTC().Truncate(time.Microsecond)
		} else {
			d, _ := parseAdvance(p.By)
			to = to.Add(d)
		}
		if to.Before(cur.Now) {
			return InvalidField("to", "must not be before the clock's time "+cur.Now.Format(time.RFC3339Nano))
		}
		if clock, err = s.store.SetTestClock(ctx, to); err != nil {
			return err
		}
		return s.audit(ctx, "test_clock", ModeTest, "update", nil, map[string]any{"now": Change{From: cur.Now, To: to}})
	})
	if err != nil {
		return nil, err
	}
	// The clock is shared by the whole test mode: its due work is done for
	// every reseller; the answer shows what the caller may see.
	all, err := s.runDue(WithPrincipal(ctx, s.systemPrincipal(false)), clock.Now)
	if err != nil {
		return nil, err
	}
	return &ClockAdvanced{Clock: clock, Run: s.visibleRun(ctx, all)}, nil
}

// visibleRun keeps what the principal of ctx may see of a run.
func (s *Service) visibleRun(ctx context.Context, r *RunResult) *RunResult {
	out := &RunResult{Mode: r.Mode, Now: r.Now, Subscriptions: []int64{}, Invoices: []int64{}, Failed: []RunFailure{}}
	for _, id := range r.Subscriptions {
		if _, err := s.store.FindSubscription(ctx, id); err == nil {
			out.Subscriptions = append(out.Subscriptions, id)
		}
	}
	for _, id := range r.Invoices {
		if _, err := s.store.FindInvoice(ctx, id); err == nil {
			out.Invoices = append(out.Invoices, id)
		}
	}
	for _, f := range r.Failed {
		if _, err := s.store.FindSubscription(ctx, f.SubscriptionsID); err == nil {
			out.Failed = append(out.Failed, f)
		}
	}
	return out
}

// systemPrincipal is the unrestricted principal of the billing worker in a mode.
func (s *Service) systemPrincipal(live bool) *Principal {
	return &Principal{Login: "billing", Live: live, Location: s.cfg.Location}
}

// runDue does the billing work due at or before now for the subscriptions in
// the scope of ctx: each subscription in its own transaction, holding its row
// lock, so runs in several processes never bill a period twice (and the
// unique index on (subscription, period start) backs that up). A
// subscription that fails is reported and left for the next run.
func (s *Service) runDue(ctx context.Context, now time.Time) (*RunResult, error) {
	res := &RunResult{Mode: modeOf(PrincipalFrom(ctx)), Now: now, Subscriptions: []int64{}, Invoices: []int64{}, Failed: []RunFailure{}}
	var skip []int64
	seen := map[int64]bool{}
	for range maxRunBatches {
		ids, err := s.store.DueSubscriptions(ctx, now, runBatch, skip)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			_, made, err := s.withSubscription(ctx, id, now, nil)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				e := AsError(err)
				s.log.WarnContext(ctx, "billing run: subscription failed", "subscription", id, "code", e.Code, "err", err)
				res.Failed = append(res.Failed, RunFailure{SubscriptionsID: id, Code: string(e.Code), Message: e.Message})
				skip = append(skip, id)
				continue
			}
			if !seen[id] {
				seen[id] = true
				res.Subscriptions = append(res.Subscriptions, id)
			}
			res.Invoices = append(res.Invoices, made...)
		}
	}
	return res, nil
}

// RunDueBilling does the live mode's billing work due at the service's clock,
// over every reseller; the server calls it periodically. Test mode is not
// touched: its clock stands still between advances, and each advance (or
// billing.run with a test key) does the work it makes due. Errors:
// unavailable, internal (per-subscription failures are in the result, not
// errors).
func (s *Service) RunDueBilling(ctx context.Context) (*RunResult, error) {
	ctx = WithPrincipal(ctx, s.systemPrincipal(true))
	return s.runDue(ctx, s.clock.Now())
}

package service

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/billgate/billgate/pkg/period"
	"github.com/billgate/billgate/pkg/tz"
)

// maxCatchUp bounds the periods one transaction bills for one subscription;
// a subscription further behind stays due and the run comes back to it.
const maxCatchUp = 100

// subChange is a subscription being worked on (locked, in a transaction),
// with what its billing needs.
type subChange struct {
	sub    *Subscription
	client *Client
	plan   *Plan
	price  *Price
	loc    *time.Location
	now    time.Time
	made   []int64 // invoices issued
	// usage holds the usage lines of the period that just ended, for the
	// next cycle invoice (billed in arrears).
	usage []draftLine
}

// withSubscription locks subscription id, catches its billing up to now (the
// periods, trial end and cancellation that fell due), runs fn (when not nil)
// and stores the result, in one transaction. It returns the subscription and
// the invoices issued.
func (s *Service) withSubscription(ctx context.Context, id int64, now time.Time, fn func(ctx context.Context, c *subChange) error) (*Subscription, []int64, error) {
	var c *subChange
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		sub, err := s.store.LockSubscription(ctx, id)
		if err != nil {
			return err
		}
		before := *sub
		if c, err = s.loadSubChange(ctx, sub, now); err != nil {
			return err
		}
		for range maxCatchUp {
			at := sub.NextWorkAt()
			if at == nil || at.After(now) {
				break
			}
			if err := s.workAt(ctx, c, *at); err != nil {
				return err
			}
		}
		if fn != nil {
			if err := fn(ctx, c); err != nil {
				return err
			}
		}
		changes := subscriptionChanges(&before, sub)
		if len(changes) == 0 {
			return nil
		}
		if err := s.store.UpdateSubscription(ctx, sub, subscriptionState); err != nil {
			return err
		}
		return s.audit(ctx, "subscription", sub.ID, "update", c.client.ResellersID, changes)
	})
	if err != nil {
		return nil, nil, err
	}
	return c.sub, c.made, nil
}

// changeSubscription is withSubscription at the billing clock of the caller's mode.
func (s *Service) changeSubscription(ctx context.Context, id int64, fn func(ctx context.Context, c *subChange) error) (*Subscription, error) {
	now, err := s.billingNow(ctx)
	if err != nil {
		return nil, err
	}
	sub, _, err := s.withSubscription(ctx, id, now, fn)
	return sub, err
}

func (s *Service) loadSubChange(ctx context.Context, sub *Subscription, now time.Time) (*subChange, error) {
	c := &subChange{sub: sub, now: now, loc: s.cfg.Location}
	var err error
	if c.client, err = s.store.FindClient(ctx, sub.ClientsID); err != nil {
		return nil, err
	}
	if c.plan, err = s.store.FindPlan(ctx, sub.PlansID); err != nil {
		return nil, err
	}
	if c.price, err = s.store.FindPrice(ctx, sub.PricesID); err != nil {
		return nil, err
	}
	if l, err := tz.Load(sub.Timezone); err == nil {
		c.loc = l
	}
	return c, nil
}

// workAt does the billing work due at `at`: a cancellation taking effect, a
// trial ending (the first period is billed), or a period ending (the next
// one is billed, after the changes scheduled for it).
func (s *Service) workAt(ctx context.Context, c *subChange, at time.Time) error {
	sub := c.sub
	switch {
	case sub.CancelAt != nil && !sub.CancelAt.After(at):
		return s.endSubscription(ctx, c, *sub.CancelAt, EvCancelDue)
	case sub.BillingAnchor == nil:
		if err := sub.transition(EvTrialEnd); err != nil {
			return err
		}
		if _, err := s.applyPending(ctx, c); err != nil {
			return err
		}
		return s.convertTrial(ctx, c, c.price, at)
	}
	if err := sub.transition(EvRenew); err != nil {
		return err
	}
	start := sub.CurrentPeriodEnd
	usage, err := s.usageLines(ctx, c, c.plan, sub.CurrentPeriodStart, start)
	if err != nil {
		return err
	}
	c.usage = usage
	newSchedule, err := s.applyPending(ctx, c)
	if err != nil {
		return err
	}
	if newSchedule {
		sub.BillingAnchor = &start
	}
	sub.CurrentPeriodStart = start
	sub.CurrentPeriodEnd = period.Next(*sub.BillingAnchor, c.price.Unit(), start, c.loc)
	_, err = s.billPeriod(ctx, c, start)
	return err
}

// applyPending switches to the plan and price of a next-cycle change; it
// reports whether the schedule changed (a new anchor then starts).
func (s *Service) applyPending(ctx context.Context, c *subChange) (bool, error) {
	sub := c.sub
	if sub.PendingPricesID == nil || sub.PendingPlansID == nil {
		return false, nil
	}
	plan, err := s.store.FindPlan(ctx, *sub.PendingPlansID)
	if err != nil {
		return false, err
	}
	price, err := s.store.FindPrice(ctx, *sub.PendingPricesID)
	if err != nil {
		return false, err
	}
	changed := price.Schedule != c.price.Schedule
	c.plan, c.price = plan, price
	sub.PlansID, sub.PricesID, sub.Schedule, sub.Currency = plan.ID, price.ID, price.Schedule, price.Currency
	sub.PendingPlansID, sub.PendingPricesID = nil, nil
	return changed, nil
}

// convertTrial starts billing at `at` with price: the first period is
// [at, at + 1 schedule) and is invoiced now.
func (s *Service) convertTrial(ctx context.Context, c *subChange, price *Price, at time.Time) error {
	sub := c.sub
	c.price = price
	sub.PricesID, sub.Schedule, sub.Currency = price.ID, price.Schedule, price.Currency
	sub.TrialEndsAt, sub.BillingAnchor = &at, &at
	sub.CurrentPeriodStart, sub.CurrentPeriodEnd = at, period.Boundary(at, price.Unit(), 1, c.loc)
	_, err := s.billPeriod(ctx, c, at)
	return err
}

// applyNow moves the subscription to plan, price and seats at c.now. During a
// trial nothing was billed, so nothing is prorated. Otherwise one proration
// invoice credits the unused share of the current period at the old terms
// and charges it at the new ones: share = (period end − now) / (period end −
// period start), exact. A new schedule starts a new period now, charged in
// full.
func (s *Service) applyNow(ctx context.Context, c *subChange, plan *Plan, price *Price, seats int64) error {
	sub, now := c.sub, c.now
	old, oldPlan, oldSeats := c.price, c.plan, sub.Seats
	c.plan, c.price = plan, price
	sub.PlansID, sub.PricesID, sub.Schedule, sub.Currency, sub.Seats = plan.ID, price.ID, price.Schedule, price.Currency, seats
	if sub.BillingAnchor == nil {
		return nil
	}
	share := remaining(now, sub.CurrentPeriodStart, sub.CurrentPeriodEnd)
	start, end := now, sub.CurrentPeriodEnd
	var lines []draftLine
	add := func(pr *Price, pl *Plan, qty int64, f *big.Rat, from, to time.Time, what string) error {
		l, err := s.subscriptionLine(ctx, c.client, pl, pr, LineProration, qty, f, from, to, what)
		if err == nil {
			lines = append(lines, l)
		}
		return err
	}
	var err error
	switch {
	case price.Schedule != old.Schedule:
		end = period.Boundary(now, price.Unit(), 1, c.loc)
		if err = add(old, oldPlan, -oldSeats, share, now, sub.CurrentPeriodEnd, "unused time"); err == nil {
			err = add(price, plan, seats, big.NewRat(1, 1), now, end, "new schedule")
		}
		if err == nil { // the cut period's usage so far: its period ends now
			var usage []draftLine
			usage, err = s.usageLines(ctx, c, oldPlan, sub.CurrentPeriodStart, now)
			lines = append(lines, usage...)
		}
		sub.BillingAnchor, sub.CurrentPeriodStart, sub.CurrentPeriodEnd = &now, now, end
	case price.ID == old.ID && seats != oldSeats:
		what := "added seats"
		if seats < oldSeats {
			what = "removed seats"
		}
		err = add(price, plan, seats-oldSeats, share, now, end, what)
	case price.ID != old.ID:
		if err = add(old, oldPlan, -oldSeats, share, now, end, "unused time"); err == nil {
			err = add(price, plan, seats, share, now, end, "remaining time")
		}
	}
	if err != nil || len(lines) == 0 {
		return err
	}
	inv := &Invoice{Kind: InvoiceKindProration, SubscriptionsID: &sub.ID, PeriodStart: &start, PeriodEnd: &end}
	_, err = s.issueInvoice(ctx, c, inv, lines, now)
	return err
}

// endSubscription ends the subscription at `at` (event ev): it bills the
// usage of the period so far, then refunds as its cancellation asked — a
// refund invoice credits the current period in full or its unused share
// (nothing for a trial, nothing unused at a period's end), and the credit
// settles what the period's invoices still owe, then is paid back as
// refunds of their payments (settleCredit).
func (s *Service) endSubscription(ctx context.Context, c *subChange, at time.Time, ev SubEvent) error {
	sub := c.sub
	if err := sub.transition(ev); err != nil {
		return err
	}
	sub.CancelAt, sub.EndedAt = &at, &at
	if sub.BillingAnchor == nil {
		return nil
	}
	if err := s.billFinalUsage(ctx, c, at); err != nil {
		return err
	}
	if sub.CancelRefundType == RefundNone {
		return nil
	}
	share := big.NewRat(1, 1)
	if sub.CancelRefundType == RefundProrate {
		share = remaining(at, sub.CurrentPeriodStart, sub.CurrentPeriodEnd)
	}
	if share.Sign() == 0 {
		return nil
	}
	l, err := s.subscriptionLine(ctx, c.client, c.plan, c.price, LineRefund, -sub.Seats, share,
		sub.CurrentPeriodStart, sub.CurrentPeriodEnd, "refund ("+sub.CancelRefundType+")")
	if err != nil {
		return err
	}
	start, end := sub.CurrentPeriodStart, sub.CurrentPeriodEnd
	inv := &Invoice{Kind: InvoiceKindRefund, SubscriptionsID: &sub.ID, PeriodStart: &start, PeriodEnd: &end}
	credit, err := s.issueInvoice(ctx, c, inv, []draftLine{l}, at)
	if err != nil || credit == nil {
		return err
	}
	invs, err := s.periodInvoices(ctx, sub)
	if err != nil {
		return err
	}
	return s.settleCredit(ctx, c, invs, credit, at)
}

// billPeriod issues the cycle invoice of the subscription's current period
// at `at`: the price times the seats, the usage of the period that ended
// (c.usage), and the discounts of the client's vouchers (each uses up one of
// its cycles). A period already billed (another process got there first) is
// skipped: the unique index on (subscription, period start) makes the run
// idempotent, and nothing else is used up then.
func (s *Service) billPeriod(ctx context.Context, c *subChange, at time.Time) (*Invoice, error) {
	sub := c.sub
	start, end := sub.CurrentPeriodStart, sub.CurrentPeriodEnd
	l, err := s.subscriptionLine(ctx, c.client, c.plan, c.price, LineSubscription, sub.Seats, big.NewRat(1, 1), start, end, "")
	if err != nil {
		return nil, err
	}
	lines := append([]draftLine{l}, c.usage...)
	c.usage = nil
	reds, err := s.store.LockActiveRedemptions(ctx, c.client.ID)
	if err != nil {
		return nil, err
	}
	disc, used := discountLines(reds, lines, sub.Currency)
	inv := &Invoice{Kind: InvoiceKindCycle, SubscriptionsID: &sub.ID, PeriodStart: &start, PeriodEnd: &end}
	made, err := s.issueInvoice(ctx, c, inv, append(lines, disc...), at)
	if err != nil || made == nil {
		return made, err
	}
	for _, red := range used {
		if err := s.store.UseRedemption(ctx, red.ID); err != nil {
			return nil, err
		}
	}
	return made, nil
}

// billFinalUsage invoices the usage of the subscription's last period up to
// its end at `at` (a manual invoice; none without usage).
func (s *Service) billFinalUsage(ctx context.Context, c *subChange, at time.Time) error {
	start := c.sub.CurrentPeriodStart
	if at.Before(start) {
		return nil
	}
	lines, err := s.usageLines(ctx, c, c.plan, start, at)
	if err != nil || len(lines) == 0 {
		return err
	}
	inv := &Invoice{Kind: InvoiceKindManual, SubscriptionsID: &c.sub.ID, PeriodStart: &start, PeriodEnd: &at,
		Memo: "usage of subscription " + itoa(c.sub.ID) + " until it ended"}
	_, err = s.issueInvoice(ctx, c, inv, lines, at)
	return err
}

// subscriptionLine prices qty units of price for the share of a period.
func (s *Service) subscriptionLine(ctx context.Context, client *Client, plan *Plan, price *Price, kind string, qty int64,
	share *big.Rat, from, to time.Time, what string) (draftLine, error) {
	prod, err := s.store.FindProduct(ctx, price.ProductsID)
	if err != nil {
		return draftLine{}, err
	}
	desc := fmt.Sprintf("%s (%s, per %s)", plan.Name, prod.Name, price.Schedule)
	if what != "" {
		desc += ": " + what
	}
	exact := new(big.Rat).Mul(big.NewRat(price.Amount*qty, 1), share)
	pid := price.ID
	return draftLine{
		line: InvoiceLine{Kind: kind, Description: desc, PricesID: &pid, Quantity: qty, UnitAmount: price.Amount,
			TaxRate: clientTaxRate(client, prod.TaxType), PeriodStart: &from, PeriodEnd: &to},
		exact: exact, inclusive: price.IncludingTax,
	}, nil
}

// subscriptionChanges lists what differs between two versions of a
// subscription, for the audit trail.
func subscriptionChanges(a, b *Subscription) map[string]any {
	out := map[string]any{}
	add := func(name string, from, to any) {
		if fmt.Sprint(from) != fmt.Sprint(to) {
			out[name] = Change{From: from, To: to}
		}
	}
	add("status", a.Status, b.Status)
	add("plans_id", a.PlansID, b.PlansID)
	add("prices_id", a.PricesID, b.PricesID)
	add("seats", a.Seats, b.Seats)
	add("current_period_end", a.CurrentPeriodEnd, b.CurrentPeriodEnd)
	add("cancel_at", ptrString(a.CancelAt), ptrString(b.CancelAt))
	add("pending_prices_id", ptrString(a.PendingPricesID), ptrString(b.PendingPricesID))
	return out
}

func ptrString[T any](p *T) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

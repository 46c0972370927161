package service

import (
	"context"
	"strings"
	"time"
)

// Refund types of a cancellation.
const (
	RefundNone    = "none"
	RefundFull    = "full"
	RefundProrate = "prorate"
)

// When a change or cancellation takes effect.
const (
	WhenInstantly    = "instantly"
	WhenNextCycle    = "next-cycle"
	WhenEndOfRun     = "end-of-run"
	WhenSpecificDate = "specific-date"
)

// ExtendTrial are the params of billing.subscriptions.extend_trial.
type ExtendTrial struct {
	ID    int64 `json:"id" required:"true"`
	Price int64 `json:"price" required:"true" doc:"the price to bill from now on (a recurring price of the plan)"`
}

// SeatsChange are the params of billing.subscriptions.add_seats and remove_seats.
type SeatsChange struct {
	ID    int64 `json:"id" required:"true"`
	Seats int64 `json:"seats" required:"true" doc:"how many seats to add or remove"`
}

// Validate checks the number of seats.
func (p *SeatsChange) Validate() error {
	if p.Seats < 1 || p.Seats > maxSeats {
		return InvalidField("seats", "must be 1 to 1000000")
	}
	return nil
}

// PlanChange are the params of billing.subscriptions.change_plan.
type PlanChange struct {
	ID    int64   `json:"id" required:"true"`
	Plan  PlanRef `json:"plan" required:"true" doc:"plan id or code name"`
	Price *int64  `json:"price" doc:"a recurring price of the new plan; default: its only one of the current schedule"`
	When  string  `json:"when" required:"true" enum:"instantly,next-cycle,next_cycle" doc:"instantly (prorated) or at the next period"`
}

// Validate normalises when.
func (p *PlanChange) Validate() error { return checkWhen(&p.When) }

// PriceChange are the params of billing.subscriptions.change_price.
type PriceChange struct {
	ID    int64  `json:"id" required:"true"`
	Price int64  `json:"price" required:"true" doc:"another recurring price of the subscription's plan"`
	When  string `json:"when" required:"true" enum:"instantly,next_cycle,next-cycle" doc:"instantly (prorated) or at the next period"`
}

// Validate normalises when.
func (p *PriceChange) Validate() error { return checkWhen(&p.When) }

// checkWhen accepts both spellings of seed 002 (next-cycle for plans,
// next_cycle for prices) and keeps one.
func checkWhen(w *string) error {
	*w = strings.ReplaceAll(*w, "_", "-")
	if *w != WhenInstantly && *w != WhenNextCycle {
		return InvalidField("when", "must be instantly or next-cycle")
	}
	return nil
}

// CancelParams are the params of billing.subscriptions.cancel.
type CancelParams struct {
	ID         int64  `json:"id" required:"true"`
	When       string `json:"when" enum:"end-of-run,instantly,specific-date" doc:"default end-of-run: at the end of the current period (or trial)"`
	Date       *Time  `json:"date" doc:"for specific-date: when the subscription ends (a future date)"`
	RefundType string `json:"refund_type" enum:"none,full,prorate" doc:"default none; full credits the current period, prorate its unused part"`
	Comment    string `json:"comment"`
}

// Validate checks when, date and refund type.
func (p *CancelParams) Validate() error {
	v := Validation{}
	if p.When == "" {
		p.When = WhenEndOfRun
	}
	if p.RefundType == "" {
		p.RefundType = RefundNone
	}
	v.Check(p.When == WhenEndOfRun || p.When == WhenInstantly || p.When == WhenSpecificDate, "when", "must be end-of-run, instantly or specific-date")
	v.Check(p.RefundType == RefundNone || p.RefundType == RefundFull || p.RefundType == RefundProrate, "refund_type", "must be none, full or prorate")
	v.Check((p.When == WhenSpecificDate) == (p.Date != nil), "date", "is required with specific-date, and only with it")
	v.Check(len(p.Comment) <= 1000, "comment", "must be at most 1000 characters")
	return v.Err()
}

func (s *Service) registerSubscriptionChanges() {
	r := s.registry
	Register(r, Decl[ExtendTrial, *Subscription]{
		Name: "billing.subscriptions.extend_trial", Summary: "Convert a trial to a paid subscription now, at a price (the first period is invoiced at once).",
		HTTP: Route{Verb: "POST", Path: "/billing/subscriptions/:id/extend-trial"},
		Do: func(ctx context.Context, p *ExtendTrial) (*Subscription, error) {
			return s.changeSubscription(ctx, p.ID, func(ctx context.Context, c *subChange) error {
				price, err := s.planPrice(ctx, "price", c.plan, &p.Price, "", c.client.Currency)
				if err != nil {
					return err
				}
				if err := c.sub.transition(EvExtendTrial); err != nil {
					return err
				}
				return s.convertTrial(ctx, c, price, c.now)
			})
		},
	})
	Register(r, Decl[SeatsChange, *Subscription]{
		Name: "billing.subscriptions.add_seats", Summary: "Add seats to a per-seat subscription (the rest of the period is invoiced at once).",
		HTTP: Route{Verb: "POST", Path: "/billing/subscriptions/:id/seats/add"},
		Do: func(ctx context.Context, p *SeatsChange) (*Subscription, error) {
			return s.changeSeats(ctx, p.ID, p.Seats)
		},
	})
	Register(r, Decl[SeatsChange, *Subscription]{
		Name: "billing.subscriptions.remove_seats", Summary: "Remove seats from a per-seat subscription (the rest of the period is credited).",
		HTTP: Route{Verb: "POST", Path: "/billing/subscriptions/:id/seats/remove"},
		Do: func(ctx context.Context, p *SeatsChange) (*Subscription, error) {
			return s.changeSeats(ctx, p.ID, -p.Seats)
		},
	})
	Register(r, Decl[PlanChange, *Subscription]{
		Name: "billing.subscriptions.change_plan", Summary: "Move a subscription to another plan, instantly (prorated) or at the next period.",
		HTTP: Route{Verb: "POST", Path: "/billing/subscriptions/:id/change-plan"},
		Do: func(ctx context.Context, p *PlanChange) (*Subscription, error) {
			return s.changeSubscription(ctx, p.ID, func(ctx context.Context, c *subChange) error {
				plan, err := s.resolvePlan(ctx, "plan", p.Plan)
				if err != nil {
					return err
				}
				if plan.PerSeat != c.plan.PerSeat && c.sub.Seats != 1 {
					return InvalidField("plan", "plan "+plan.CodeName+" is not per seat and the subscription has several seats")
				}
				price, err := s.planPrice(ctx, "price", plan, p.Price, c.sub.Schedule, c.client.Currency)
				if err != nil {
					return err
				}
				return s.changePrice(ctx, c, plan, price, p.When)
			})
		},
	})
	Register(r, Decl[PriceChange, *Subscription]{
		Name: "billing.subscriptions.change_price", Summary: "Bill a subscription at another price of its plan (another amount or schedule), instantly (prorated) or at the next period.",
		HTTP: Route{Verb: "POST", Path: "/billing/subscriptions/:id/change-price"},
		Do: func(ctx context.Context, p *PriceChange) (*Subscription, error) {
			return s.changeSubscription(ctx, p.ID, func(ctx context.Context, c *subChange) error {
				price, err := s.planPrice(ctx, "price", c.plan, &p.Price, "", c.client.Currency)
				if err != nil {
					return err
				}
				return s.changePrice(ctx, c, c.plan, price, p.When)
			})
		},
	})
	Register(r, Decl[CancelParams, *Subscription]{
		Name: "billing.subscriptions.cancel", Summary: "Cancel a subscription at the end of its period, instantly or on a date, with no, a full or a prorated refund.",
		HTTP: Route{Verb: "POST", Path: "/billing/subscriptions/:id/cancel"},
		Do: func(ctx context.Context, p *CancelParams) (*Subscription, error) {
			return s.changeSubscription(ctx, p.ID, func(ctx context.Context, c *subChange) error {
				return s.cancelSubscription(ctx, c, p)
			})
		},
	})
}

// changeSeats adds (delta > 0) or removes seats of a per-seat subscription.
func (s *Service) changeSeats(ctx context.Context, id, delta int64) (*Subscription, error) {
	return s.changeSubscription(ctx, id, func(ctx context.Context, c *subChange) error {
		if !c.plan.PerSeat {
			return Unprocessable("not_per_seat", "subscription %d: plan %s is not per seat", c.sub.ID, c.plan.CodeName)
		}
		seats := c.sub.Seats + delta
		if seats < 1 || seats > maxSeats {
			return Unprocessable("seats_out_of_range", "subscription %d has %d seats: it would have %d (1 to 1000000)", c.sub.ID, c.sub.Seats, seats)
		}
		if err := c.sub.transition(EvSeats); err != nil {
			return err
		}
		return s.applyNow(ctx, c, c.plan, c.price, seats)
	})
}

// changePrice moves the subscription to plan at price, now (with proration)
// or from its next period on.
func (s *Service) changePrice(ctx context.Context, c *subChange, plan *Plan, price *Price, when string) error {
	if err := c.sub.transition(EvChange); err != nil {
		return err
	}
	if when == WhenNextCycle {
		c.sub.PendingPlansID, c.sub.PendingPricesID = &plan.ID, &price.ID
		return nil
	}
	c.sub.PendingPlansID, c.sub.PendingPricesID = nil, nil
	return s.applyNow(ctx, c, plan, price, c.sub.Seats)
}

// cancelSubscription ends the subscription now or schedules its end.
func (s *Service) cancelSubscription(ctx context.Context, c *subChange, p *CancelParams) error {
	sub, now := c.sub, c.now
	at := sub.CurrentPeriodEnd
	switch p.When {
	case WhenInstantly:
		at = now
	case WhenSpecificDate:
		at = p.Date.UTC()
		if !at.After(now) {
			return InvalidField("date", "must be after now ("+now.Format(time.RFC3339)+")")
		}
	}
	sub.CancelRefundType, sub.CancelComment, sub.CanceledAt = p.RefundType, p.Comment, &now
	sub.CancelAt = &at
	if p.When == WhenInstantly {
		return s.endSubscription(ctx, c, now, EvCancelNow)
	}
	return sub.transition(EvCancelLater)
}

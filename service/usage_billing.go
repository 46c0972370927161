package service

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/billgate/billgate/pkg/money"
)

// UsageEstimate is what a client's metered usage costs so far in the current
// periods of its subscriptions (seed 002's "Usage Cost Estimate"), net of tax.
type UsageEstimate struct {
	ClientsID int64       `json:"clients_id"`
	At        time.Time   `json:"at" doc:"the billing time of the estimate"`
	Costs     []UsageCost `json:"costs"`
	Cost      Money       `json:"cost" doc:"the sum of the costs"`
}

// UsageCost is the cost of one metered price of one subscription so far.
type UsageCost struct {
	SubscriptionsID int64     `json:"subscriptions_id"`
	PricesID        int64     `json:"prices_id"`
	Metric          string    `json:"metric"`
	Quantity        Decimal   `json:"quantity" doc:"the metric's aggregate over the period so far"`
	UnitAmount      int64     `json:"unit_amount"`
	Amount          int64     `json:"amount" doc:"minor units, rounded once"`
	Currency        string    `json:"currency"`
	PeriodStart     time.Time `json:"period_start"`
	PeriodEnd       time.Time `json:"period_end"`
}

// Money is an amount in minor units of a currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// UsageEstimateParams are the params of billing.usage.estimate.
type UsageEstimateParams struct {
	ClientsID int64 `json:"clients_id" required:"true"`
}

// meteredPrices returns the metered prices of plan a subscription in
// currency is billed for, with their metrics (among the metrics of the
// plan's reseller; a price whose metric does not exist meters nothing).
func (s *Service) meteredPrices(ctx context.Context, plan *Plan, currency string) ([]*Price, []*Metric, error) {
	var prices []*Price
	var metrics []*Metric
	for _, id := range plan.Prices {
		pr, err := s.store.FindPrice(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if pr.UsageMetric == "" || pr.Currency != currency {
			continue
		}
		m, err := s.store.FindMetricByCode(ctx, pr.UsageMetric, plan.ResellersID)
		if CodeOf(err) == CodeNotFound {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		prices, metrics = append(prices, pr), append(metrics, m)
	}
	return prices, metrics, nil
}

// usageLines prices the usage of subscription c.sub over [from, to): one
// line per metered price of plan (the plan it was on) with usage, the quantity being the
// metric's aggregate and the amount price × quantity (rounded once, with
// the invoice).
func (s *Service) usageLines(ctx context.Context, c *subChange, plan *Plan, from, to time.Time) ([]draftLine, error) {
	if !from.Before(to) {
		return nil, nil
	}
	prices, metrics, err := s.meteredPrices(ctx, plan, c.sub.Currency)
	if err != nil {
		return nil, err
	}
	var out []draftLine
	for i, pr := range prices {
		q, err := s.store.AggregateUsage(ctx, c.sub.ID, metrics[i], from, to)
		if err != nil {
			return nil, err
		}
		if q.Micros == 0 {
			continue
		}
		prod, err := s.store.FindProduct(ctx, pr.ProductsID)
		if err != nil {
			return nil, err
		}
		qty, _ := money.Round(q.Rat())
		pid, f, t := pr.ID, from, to
		out = append(out, draftLine{
			line: InvoiceLine{Kind: LineUsage, Description: fmt.Sprintf("%s (%s): %s × %s", metrics[i].Name, prod.Name, q, metrics[i].Aggregation),
				PricesID: &pid, Quantity: qty, UnitAmount: pr.Amount, TaxRate: clientTaxRate(c.client, prod.TaxType), PeriodStart: &f, PeriodEnd: &t},
			exact: new(big.Rat).Mul(big.NewRat(pr.Amount, 1), q.Rat()), inclusive: pr.IncludingTax,
		})
	}
	return out, nil
}

// estimateUsage is the client's usage cost so far at now: the events of the
// current period of each subscription billing one (not a trial, not ended);
// events are stamped with the billing clock, so none lies ahead of now.
func (s *Service) estimateUsage(ctx context.Context, client *Client, now time.Time) (*UsageEstimate, error) {
	subs, err := s.store.SearchSubscriptions(ctx, Query{Filters: []Filter{
		{Field: "clients_id", Values: []any{client.ID}},
		{Field: "status", Values: []any{SubActive, SubPendingCancel}},
	}, Order: []Order{{Field: "id"}}, Limit: MaxLimit})
	if err != nil {
		return nil, err
	}
	est := &UsageEstimate{ClientsID: client.ID, At: now, Costs: []UsageCost{}, Cost: Money{Currency: client.Currency}}
	for _, sub := range subs {
		if sub.BillingAnchor == nil {
			continue
		}
		plan, err := s.store.FindPlan(ctx, sub.PlansID)
		if err != nil {
			return nil, err
		}
		prices, metrics, err := s.meteredPrices(ctx, plan, sub.Currency)
		if err != nil {
			return nil, err
		}
		for i, pr := range prices {
			q, err := s.store.AggregateUsage(ctx, sub.ID, metrics[i], sub.CurrentPeriodStart, sub.CurrentPeriodEnd)
			if err != nil {
				return nil, err
			}
			amount, err := money.Round(new(big.Rat).Mul(big.NewRat(pr.Amount, 1), q.Rat()))
			if err != nil {
				return nil, Internal(err)
			}
			est.Costs = append(est.Costs, UsageCost{SubscriptionsID: sub.ID, PricesID: pr.ID, Metric: metrics[i].Code, Quantity: q,
				UnitAmount: pr.Amount, Amount: amount, Currency: sub.Currency, PeriodStart: sub.CurrentPeriodStart, PeriodEnd: sub.CurrentPeriodEnd})
			est.Cost.Amount += amount
		}
	}
	return est, nil
}

// checkUsageLimits fires the limits client's usage cost has reached, in the
// transaction of ctx, which holds the client's row lock (taken before the
// event was stored) — so the events of concurrent transactions are all
// counted before the next one checks, and a limit crossed by them fires
// exactly once: the conditional update that marks it fired succeeds for one
// transaction only. WARNING records the crossing (on the limit and in the
// audit trail); DISABLE also suspends the client, which then records no
// more usage.
func (s *Service) checkUsageLimits(ctx context.Context, client *Client, now time.Time) error {
	limits, err := s.store.PendingUsageLimits(ctx, client.ID)
	if err != nil || len(limits) == 0 {
		return err
	}
	est, err := s.estimateUsage(ctx, client, now)
	if err != nil {
		return err
	}
	cost := est.Cost.Amount
	for _, l := range limits {
		if cost < l.Amount {
			continue
		}
		fired, err := s.store.FireUsageLimit(ctx, l.ID, now, cost)
		if err != nil {
			return err
		}
		if !fired {
			continue
		}
		if err := s.audit(ctx, "usage_limit", l.ID, "update", client.ResellersID, map[string]any{
			"fired_at": Change{From: nil, To: now}, "action": l.Action, "amount": l.Amount, "cost": cost}); err != nil {
			return err
		}
		if l.Action == LimitDisable && client.Status == ClientActive {
			client.Status = ClientSuspended
			if err := s.store.UpdateClient(ctx, client, []string{"status"}); err != nil {
				return err
			}
			if err := s.audit(ctx, "client", client.ID, "update", client.ResellersID, map[string]any{
				"status": Change{From: ClientActive, To: ClientSuspended}, "usage_limit": l.ID}); err != nil {
				return err
			}
		}
	}
	return nil
}

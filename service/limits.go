package service

import (
	"context"
	"slices"
	"sort"
	"time"
)

// Usage limit actions (seed 002).
const (
	LimitWarning = "WARNING"
	LimitDisable = "DISABLE"
)

// UsageLimit is a ceiling on a client's usage cost in the current period
// (seed 002): when the estimate reaches Amount, the limit fires, once — a
// WARNING is recorded (fired_at, fired_cost and the audit trail), a DISABLE
// also suspends the client.
type UsageLimit struct {
	ID        int64      `json:"id"`
	ClientsID int64      `json:"clients_id"`
	Amount    int64      `json:"amount" doc:"minor units of the client's currency"`
	Action    string     `json:"action" enum:"WARNING,DISABLE"`
	FiredAt   *time.Time `json:"fired_at" doc:"when the usage cost reached the amount (it fires once)"`
	FiredCost *int64     `json:"fired_cost" doc:"the usage cost then"`
	LiveMode  bool       `json:"live_mode"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// ClientUsageLimits are the params of billing.usage.limits.search (seed
// 002's "Fetch Customer Usage Limits").
type ClientUsageLimits struct {
	ListParams
	ClientsID int64   `json:"clients_id" required:"true"`
	Action    Strings `json:"action" filter:"action"`
}

var usageLimitList = ListSpec{Sort: []string{"id", "amount", "created_at"}, Search: []string{"action"}}

// UsageLimitCreate are the params of billing.usage.limits.create.
type UsageLimitCreate struct {
	ClientsID int64  `json:"clients_id" required:"true"`
	Amount    int64  `json:"amount" required:"true" doc:"minor units of the client's currency"`
	Action    string `json:"action" required:"true" enum:"WARNING,DISABLE"`
}

// Validate checks amount and action.
func (p *UsageLimitCreate) Validate() error {
	v := Validation{}
	v.Check(p.Amount > 0 && p.Amount <= maxUnitAmount, "amount", "must be 1 to 10^12 minor units")
	v.Check(p.Action == LimitWarning || p.Action == LimitDisable, "action", "must be WARNING or DISABLE")
	return v.Err()
}

// UsageLimitRef addresses a usage limit of a client.
type UsageLimitRef struct {
	ClientsID int64 `json:"clients_id" required:"true"`
	ID        int64 `json:"id" required:"true"`
}

func (s *Service) registerUsage() {
	s.registerMetrics()
	s.registerUsageEvents()
	r := s.registry
	Register(r, Decl[UsageEstimateParams, *UsageEstimate]{
		Name: "billing.usage.estimate", Summary: "What a client's metered usage costs so far this period (seed 002's Usage Cost Estimate).",
		HTTP: Route{Verb: "GET", Path: "/billing/clients/:clients_id/usage/estimate"},
		Do: func(ctx context.Context, p *UsageEstimateParams) (*UsageEstimate, error) {
			now, err := s.billingNow(ctx)
			if err != nil {
				return nil, err
			}
			client, err := s.store.FindClient(ctx, p.ClientsID)
			if err != nil {
				return nil, err
			}
			return s.estimateUsage(ctx, client, now)
		},
	})
	Register(r, Decl[ClientUsageLimits, *Page[*UsageLimit]]{
		Name: "billing.usage.limits.search", Summary: "List a client's usage limits.",
		HTTP: Route{Verb: "GET", Path: "/billing/clients/:clients_id/usage-limits"},
		Do: func(ctx context.Context, p *ClientUsageLimits) (*Page[*UsageLimit], error) {
			q, err := BuildQuery(usageLimitList, p.FilterParams, &p.ListParams, p)
			if err != nil {
				return nil, err
			}
			if _, err := s.store.FindClient(ctx, p.ClientsID); err != nil {
				return nil, err
			}
			q.Filters = append(q.Filters, Filter{Field: "clients_id", Values: []any{p.ClientsID}})
			rows, err := s.store.SearchUsageLimits(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[UsageLimitCreate, *UsageLimit]{
		Name: "billing.usage.limits.create", Summary: "Add a usage limit to a client: WARNING records, DISABLE suspends the client when its usage cost reaches the amount.",
		HTTP: Route{Verb: "POST", Path: "/billing/clients/:clients_id/usage-limits", Created: true}, Idempotent: true,
		Do: func(ctx context.Context, p *UsageLimitCreate) (*UsageLimit, error) {
			var l *UsageLimit
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				client, err := s.store.FindClient(ctx, p.ClientsID)
				if err != nil {
					return err
				}
				l = &UsageLimit{ClientsID: client.ID, Amount: p.Amount, Action: p.Action, LiveMode: client.LiveMode}
				if err := s.store.CreateUsageLimit(ctx, l); err != nil {
					return err
				}
				return s.audit(ctx, "usage_limit", l.ID, "create", client.ResellersID, map[string]any{"object": l})
			})
			return l, err
		},
	})
	Register(r, Decl[UsageLimitRef, *Deleted]{
		Name: "billing.usage.limits.delete", Summary: "Delete a client's usage limit.",
		HTTP: Route{Verb: "DELETE", Path: "/billing/clients/:clients_id/usage-limits/:id"},
		Do: func(ctx context.Context, p *UsageLimitRef) (*Deleted, error) {
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				client, err := s.store.FindClient(ctx, p.ClientsID)
				if err != nil {
					return err
				}
				l, err := s.store.FindUsageLimit(ctx, p.ID)
				if err != nil {
					return err
				}
				if l.ClientsID != client.ID {
					return NotFound("usage limit", p.ID)
				}
				if err := s.store.DeleteUsageLimit(ctx, l.ID); err != nil {
					return err
				}
				return s.audit(ctx, "usage_limit", l.ID, "delete", client.ResellersID, map[string]any{"object": l})
			})
			if err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}

// ClientLimits is what a client's plans give it (seed 002's "Fetch Customer
// Limits"): the features of its active plans, their limits and its users.
type ClientLimits struct {
	ClientsID int64          `json:"clients_id"`
	Features  []string       `json:"features" doc:"every feature of the plans of its active subscriptions, sorted"`
	Limits    []FeatureLimit `json:"limits" doc:"per feature code, summed over the subscriptions (per seat on per-seat plans)"`
	UserCount int64          `json:"user_count" doc:"users included, summed likewise"`
}

// FeatureLimit is the limit of one feature code.
type FeatureLimit struct {
	Code  string `json:"code"`
	Limit int64  `json:"limit"`
}

// ClientLimitsParams are the params of clients.limits.
type ClientLimitsParams struct {
	ID int64 `json:"id" required:"true" doc:"the client"`
}

// clientLimits adds up the plans of the client's subscriptions that have not
// ended (trialing, active, pending_cancel): a per-seat plan counts once per
// seat. Errors: not_found.
func (s *Service) clientLimits(ctx context.Context, p *ClientLimitsParams) (*ClientLimits, error) {
	client, err := s.store.FindClient(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	subs, err := s.store.SearchSubscriptions(ctx, Query{Filters: []Filter{
		{Field: "clients_id", Values: []any{client.ID}},
		{Field: "status", Values: []any{SubTrialing, SubActive, SubPendingCancel}},
	}, Order: []Order{{Field: "id"}}, Limit: MaxLimit})
	if err != nil {
		return nil, err
	}
	out := &ClientLimits{ClientsID: client.ID, Features: []string{}, Limits: []FeatureLimit{}}
	limits := map[string]int64{}
	plans := map[int64]*Plan{}
	for _, sub := range subs {
		plan := plans[sub.PlansID]
		if plan == nil {
			if plan, err = s.store.FindPlan(ctx, sub.PlansID); err != nil {
				return nil, err
			}
			plans[sub.PlansID] = plan
		}
		n := int64(1)
		if plan.PerSeat {
			n = sub.Seats
		}
		for _, f := range plan.Features {
			if !slices.Contains(out.Features, f) {
				out.Features = append(out.Features, f)
			}
		}
		for code, l := range plan.Limits {
			limits[code] += l * n
		}
		out.UserCount += int64(plan.UserCount) * n
	}
	sort.Strings(out.Features)
	for code, l := range limits {
		out.Limits = append(out.Limits, FeatureLimit{Code: code, Limit: l})
	}
	sort.Slice(out.Limits, func(i, j int) bool { return out.Limits[i].Code < out.Limits[j].Code })
	return out, nil
}

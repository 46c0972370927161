package service

import (
	"context"
	"time"

	"github.com/billgate/billgate/pkg/period"
)

// Subscription is a client's subscription to a plan at one of its prices
// (seed 002). It is billed in advance at the start of each period; periods
// repeat from BillingAnchor in the client's zone (Timezone). Its Status
// follows SubscriptionMachine.
type Subscription struct {
	ID                 int64          `json:"id"`
	ClientsID          int64          `json:"clients_id"`
	PlansID            int64          `json:"plans_id"`
	PricesID           int64          `json:"prices_id"`
	Status             string         `json:"status" enum:"trialing,active,pending_cancel,cancelled"`
	Seats              int64          `json:"seats" doc:"billed quantity (1 unless the plan is per seat)"`
	Schedule           string         `json:"schedule" enum:"week,month,year" doc:"the price's schedule"`
	Currency           string         `json:"currency"`
	Timezone           string         `json:"timezone" doc:"the zone the periods are computed in (the client's when the subscription started)"`
	TrialEndsAt        *time.Time     `json:"trial_ends_at"`
	BillingAnchor      *time.Time     `json:"billing_anchor" doc:"start of the first billed period; null during a trial"`
	CurrentPeriodStart time.Time      `json:"current_period_start"`
	CurrentPeriodEnd   time.Time      `json:"current_period_end" doc:"paid up to here (the trial's end during a trial)"`
	CancelAt           *time.Time     `json:"cancel_at" doc:"when a scheduled cancellation takes effect"`
	CancelRefundType   string         `json:"cancel_refund_type" enum:"none,full,prorate"`
	CancelComment      string         `json:"cancel_comment"`
	CanceledAt         *time.Time     `json:"canceled_at" doc:"when the cancellation was asked for"`
	EndedAt            *time.Time     `json:"ended_at"`
	PendingPlansID     *int64         `json:"pending_plans_id" doc:"the plan from the next period on (a next-cycle change)"`
	PendingPricesID    *int64         `json:"pending_prices_id" doc:"the price from the next period on"`
	Metadata           map[string]any `json:"metadata"`
	LiveMode           bool           `json:"live_mode"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
}

// NextWorkAt is when the billing run next has work for the subscription: the
// end of its period (or trial), or an earlier cancellation date; nil once it
// has ended. The store indexes it.
func (sub *Subscription) NextWorkAt() *time.Time {
	if sub.Status == SubCancelled {
		return nil
	}
	at := sub.CurrentPeriodEnd
	if sub.CancelAt != nil && sub.CancelAt.Before(at) {
		at = *sub.CancelAt
	}
	return &at
}

// subscriptionState lists the fields the lifecycle writes (every operation
// writes them all).
var subscriptionState = []string{"plans_id", "prices_id", "status", "seats", "schedule", "currency", "trial_ends_at",
	"billing_anchor", "current_period_start", "current_period_end", "cancel_at", "cancel_refund_type", "cancel_comment",
	"canceled_at", "ended_at", "pending_plans_id", "pending_prices_id"}

// SubscriptionFilter are the typed filters of billing.subscriptions.search and .count.
type SubscriptionFilter struct {
	ID        IDs     `json:"id" filter:"id"`
	ClientsID IDs     `json:"clients_id" filter:"clients_id"`
	PlansID   IDs     `json:"plans_id" filter:"plans_id"`
	PricesID  IDs     `json:"prices_id" filter:"prices_id"`
	Status    Strings `json:"status" filter:"status"`
}

// SubscriptionSearch are the params of billing.subscriptions.search.
type SubscriptionSearch struct {
	ListParams
	SubscriptionFilter
}

// SubscriptionCount are the params of billing.subscriptions.count.
type SubscriptionCount struct {
	FilterParams
	SubscriptionFilter
}

// ClientSubscriptions are the params of the client-scoped subscription lists.
type ClientSubscriptions struct {
	ListParams
	ClientsID int64   `json:"clients_id" required:"true"`
	Status    Strings `json:"status" filter:"status"`
}

var subscriptionList = ListSpec{Sort: []string{"id", "created_at", "updated_at", "current_period_end", "status"},
	Search: []string{"cancel_comment"}}

// SubscriptionCreate are the params of billing.subscriptions.create.
type SubscriptionCreate struct {
	ClientsID int64          `json:"clients_id" required:"true"`
	Plan      PlanRef        `json:"plan" required:"true" doc:"plan id or code name"`
	Price     *int64         `json:"price" doc:"one of the plan's recurring prices in the client's currency; default: the only one (of schedule, when given)"`
	Schedule  string         `json:"schedule" enum:"week,month,year" doc:"picks the plan's price of this schedule when price is not given"`
	Seats     *int64         `json:"seats" doc:"per-seat plans only; default 1"`
	TrialDays *int           `json:"trial_days" doc:"length of the free trial in days; default: the plan's free_trial_days"`
	DenyTrial bool           `json:"deny_trial" doc:"start billing now even if the plan has a free trial"`
	Metadata  map[string]any `json:"metadata"`
}

// Validate checks seats, trial and metadata.
func (p *SubscriptionCreate) Validate() error {
	v := Validation{}
	v.Check(p.Schedule == "" || period.Unit(p.Schedule).Valid(), "schedule", "must be week, month or year")
	v.Check(p.Seats == nil || (*p.Seats >= 1 && *p.Seats <= maxSeats), "seats", "must be 1 to 1000000")
	v.Check(p.TrialDays == nil || (*p.TrialDays >= 0 && *p.TrialDays <= 730), "trial_days", "must be 0 to 730")
	v.Check(!(p.DenyTrial && p.TrialDays != nil && *p.TrialDays > 0), "deny_trial", "contradicts trial_days")
	checkMetadata(v, p.Metadata)
	return v.Err()
}

// maxSeats bounds a subscription's quantity (amounts stay far from overflow).
const maxSeats = 1_000_000

func (s *Service) registerSubscriptions() {
	r := s.registry
	Register(r, Decl[SubscriptionSearch, *Page[*Subscription]]{
		Name: "billing.subscriptions.search", Summary: "List subscriptions.", HTTP: Route{Verb: "GET", Path: "/billing/subscriptions"},
		Do: func(ctx context.Context, p *SubscriptionSearch) (*Page[*Subscription], error) {
			q, err := BuildQuery(subscriptionList, p.FilterParams, &p.ListParams, &p.SubscriptionFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchSubscriptions(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[SubscriptionCount, *Count]{
		Name: "billing.subscriptions.count", Summary: "Count subscriptions.", HTTP: Route{Verb: "GET", Path: "/billing/subscriptions/count"},
		Do: func(ctx context.Context, p *SubscriptionCount) (*Count, error) {
			q, err := BuildQuery(subscriptionList, p.FilterParams, nil, &p.SubscriptionFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountSubscriptions(ctx, q)
			return &Count{Count: n}, err
		},
	})
	Register(r, Decl[IDParams, *Subscription]{
		Name: "billing.subscriptions.get", Summary: "Get a subscription.", HTTP: Route{Verb: "GET", Path: "/billing/subscriptions/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Subscription, error) {
			return s.store.FindSubscription(ctx, p.ID)
		},
	})
	Register(r, Decl[SubscriptionCreate, *Subscription]{
		Name: "billing.subscriptions.create", Summary: "Start a subscription for a client: a free trial, or billing now (the first invoice is issued at once).",
		HTTP: Route{Verb: "POST", Path: "/billing/subscriptions", Created: true}, Idempotent: true, Do: s.startSubscription,
	})
	Register(r, Decl[ClientSubscriptions, *Page[*Subscription]]{
		Name: "billing.clients.subscriptions", Summary: "List a client's subscriptions.",
		HTTP: Route{Verb: "GET", Path: "/billing/clients/:clients_id/subscriptions"},
		Do: func(ctx context.Context, p *ClientSubscriptions) (*Page[*Subscription], error) {
			return s.clientSubscriptions(ctx, p, false)
		},
	})
	Register(r, Decl[ClientSubscriptions, *Page[*Subscription]]{
		Name: "billing.clients.active_subscriptions", Summary: "List a client's subscriptions that have not ended (trialing, active, pending_cancel).",
		HTTP: Route{Verb: "GET", Path: "/billing/clients/:clients_id/subscriptions/active"},
		Do: func(ctx context.Context, p *ClientSubscriptions) (*Page[*Subscription], error) {
			return s.clientSubscriptions(ctx, p, true)
		},
	})
	s.registerSubscriptionChanges()
}

func (s *Service) clientSubscriptions(ctx context.Context, p *ClientSubscriptions, active bool) (*Page[*Subscription], error) {
	q, err := BuildQuery(subscriptionList, p.FilterParams, &p.ListParams, p)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.FindClient(ctx, p.ClientsID); err != nil {
		return nil, err
	}
	q.Filters = append(q.Filters, Filter{Field: "clients_id", Values: []any{p.ClientsID}})
	if active {
		q.Filters = append(q.Filters, Filter{Field: "status", Values: []any{SubTrialing, SubActive, SubPendingCancel}})
	}
	rows, err := s.store.SearchSubscriptions(ctx, q)
	return NewPage(rows, q), err
}

// startSubscription creates the subscription in a trial, or active with its
// first period invoiced and debited in the same transaction. Errors:
// not_found (client, plan, price), invalid_params (a price not of the plan,
// seats on a plan not per seat), unprocessable (client not active).
func (s *Service) startSubscription(ctx context.Context, p *SubscriptionCreate) (*Subscription, error) {
	now, err := s.billingNow(ctx)
	if err != nil {
		return nil, err
	}
	var sub *Subscription
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		client, err := s.store.FindClient(ctx, p.ClientsID)
		if err != nil {
			return err
		}
		if client.Status != ClientActive {
			return Unprocessable("client_not_active", "client %d is %s: it cannot start a subscription", client.ID, client.Status)
		}
		plan, err := s.resolvePlan(ctx, "plan", p.Plan)
		if err != nil {
			return err
		}
		price, err := s.planPrice(ctx, "price", plan, p.Price, p.Schedule, client.Currency)
		if err != nil {
			return err
		}
		seats := int64(1)
		if p.Seats != nil {
			seats = *p.Seats
		}
		if seats != 1 && !plan.PerSeat {
			return InvalidField("seats", "plan "+plan.CodeName+" is not per seat")
		}
		trial := plan.FreeTrialDays
		if p.TrialDays != nil {
			trial = *p.TrialDays
		}
		if p.DenyTrial {
			trial = 0
		}
		loc := s.clientLocation(client)
		sub = &Subscription{ClientsID: client.ID, PlansID: plan.ID, PricesID: price.ID, Seats: seats, Schedule: price.Schedule,
			Currency: price.Currency, Timezone: loc.String(), CurrentPeriodStart: now, CancelRefundType: RefundNone,
			Metadata: p.Metadata, LiveMode: client.LiveMode}
		if trial > 0 {
			end := period.AddDays(now, trial, loc)
			sub.Status, sub.TrialEndsAt, sub.CurrentPeriodEnd = SubTrialing, &end, end
		} else {
			sub.Status, sub.BillingAnchor = SubActive, &now
			sub.CurrentPeriodEnd = period.Boundary(now, price.Unit(), 1, loc)
		}
		if err := s.store.CreateSubscription(ctx, sub); err != nil {
			return err
		}
		if err := s.audit(ctx, "subscription", sub.ID, "create", client.ResellersID, map[string]any{"object": sub}); err != nil {
			return err
		}
		if sub.Status == SubActive {
			c := &subChange{sub: sub, client: client, plan: plan, price: price, loc: loc, now: now}
			_, err = s.billPeriod(ctx, c, now)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// planPrice picks the price of a subscription: the one asked for (which must
// be a flat recurring price of the plan in the client's currency), else the
// plan's only such price (of the schedule, when one is given). The plan's
// metered prices are billed from usage on top of it.
func (s *Service) planPrice(ctx context.Context, field string, plan *Plan, id *int64, schedule, currency string) (*Price, error) {
	if id != nil {
		pr, err := s.store.FindPrice(ctx, *id)
		if err != nil {
			return nil, err
		}
		switch {
		case !containsID(plan.Prices, pr.ID):
			return nil, InvalidField(field, "is not a price of plan "+plan.CodeName)
		case !pr.Recurring:
			return nil, InvalidField(field, "is a one-off price: a subscription needs a recurring one")
		case pr.UsageMetric != "":
			return nil, InvalidField(field, "is a metered price: it bills the usage of every subscription to the plan; subscribe at a flat price")
		case pr.Currency != currency:
			return nil, InvalidField(field, "is in "+pr.Currency+", the client pays in "+currency)
		}
		return pr, nil
	}
	var found []*Price
	for _, pid := range plan.Prices {
		pr, err := s.store.FindPrice(ctx, pid)
		if err != nil {
			return nil, err
		}
		if pr.Recurring && pr.UsageMetric == "" && pr.Currency == currency && (schedule == "" || pr.Schedule == schedule) {
			found = append(found, pr)
		}
	}
	if len(found) != 1 {
		return nil, InvalidField(field, "is required: plan "+plan.CodeName+" has no single recurring "+currency+" price to default to")
	}
	return found[0], nil
}

func containsID(ids []int64, id int64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

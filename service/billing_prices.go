package service

import (
	"context"
	"strings"
	"time"

	"github.com/billgate/billgate/pkg/period"
)

// ScheduleOneOff is the schedule of a price that is not recurring.
const ScheduleOneOff = "one-off"

// Price is what a product costs: an amount in minor units of a currency,
// once or per week, month or year. Prices are scoped through their product.
// Amount, currency and schedule never change (a subscription's invoices
// depend on them): make a new price instead.
type Price struct {
	ID                int64     `json:"id"`
	ProductsID        int64     `json:"products_id"`
	Amount            int64     `json:"amount" doc:"minor units of currency"`
	Currency          string    `json:"currency"`
	Recurring         bool      `json:"recurring"`
	Schedule          string    `json:"schedule" enum:"week,month,year,one-off"`
	IncludingTax      bool      `json:"including_tax" doc:"the amount includes the tax; otherwise tax is added on top"`
	Public            bool      `json:"public"`
	UsageMetric       string    `json:"usage_metric" doc:"name of the usage metric this price meters (empty: a flat price)"`
	ExternalReference string    `json:"external_reference"`
	LiveMode          bool      `json:"live_mode"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Unit returns the period unit of a recurring price.
func (p *Price) Unit() period.Unit { return period.Unit(p.Schedule) }

// PriceFilter are the typed filters of billing.prices.search.
type PriceFilter struct {
	ID        IDs     `json:"id" filter:"id"`
	Currency  Strings `json:"currency" filter:"currency"`
	Schedule  Strings `json:"schedule" filter:"schedule"`
	Recurring *bool   `json:"recurring" filter:"recurring"`
	Public    *bool   `json:"public" filter:"public"`
}

// PriceSearch are the params of billing.prices.search (the prices of one product).
type PriceSearch struct {
	ListParams
	ProductsID int64 `json:"products_id" required:"true"`
	PriceFilter
}

var priceList = ListSpec{Sort: []string{"id", "amount", "created_at"}, Search: []string{"external_reference", "usage_metric"}}

// PriceRef addresses one price of a product.
type PriceRef struct {
	ProductsID int64 `json:"products_id" required:"true"`
	ID         int64 `json:"id" required:"true"`
}

// PriceCreate are the params of billing.prices.create.
type PriceCreate struct {
	ProductsID        int64  `json:"products_id" required:"true"`
	Amount            *int64 `json:"amount" required:"true" doc:"minor units of currency"`
	Currency          string `json:"currency" required:"true" doc:"ISO 4217"`
	Recurring         *bool  `json:"recurring" required:"true"`
	Schedule          string `json:"schedule" enum:"week,month,year,one-off" doc:"required when recurring; one-off otherwise"`
	IncludingTax      bool   `json:"including_tax"`
	Public            *bool  `json:"public" doc:"default true"`
	UsageMetric       string `json:"usage_metric"`
	ExternalReference string `json:"external_reference"`
}

// Validate checks amount, currency and schedule.
func (p *PriceCreate) Validate() error {
	v := Validation{}
	p.Currency = strings.ToUpper(p.Currency)
	v.Check(p.Amount != nil && *p.Amount >= 0 && *p.Amount <= maxUnitAmount, "amount", "must be 0 to 10^12 minor units")
	v.Check(currencyRe.MatchString(p.Currency), "currency", "must be a 3-letter ISO 4217 code")
	switch {
	case p.Recurring == nil:
	case *p.Recurring:
		v.Check(period.Unit(p.Schedule).Valid(), "schedule", "must be week, month or year for a recurring price")
	case p.Schedule == "":
		p.Schedule = ScheduleOneOff
	default:
		v.Check(p.Schedule == ScheduleOneOff, "schedule", "must be one-off for a price that is not recurring")
	}
	v.Check(len(p.UsageMetric) <= 100, "usage_metric", "must be at most 100 characters")
	v.Check(len(p.ExternalReference) <= 200, "external_reference", "must be at most 200 characters")
	return v.Err()
}

// PriceUpdate are the params of billing.prices.update: only what no invoice
// depends on can change.
type PriceUpdate struct {
	PriceRef
	Public            *bool   `json:"public"`
	ExternalReference *string `json:"external_reference"`
}

// Validate checks the reference.
func (p *PriceUpdate) Validate() error {
	if p.ExternalReference != nil && len(*p.ExternalReference) > 200 {
		return InvalidField("external_reference", "must be at most 200 characters")
	}
	return nil
}

func (s *Service) registerPrices() {
	r := s.registry
	Register(r, Decl[PriceSearch, *Page[*Price]]{
		Name: "billing.prices.search", Summary: "List the prices of a product.",
		HTTP: Route{Verb: "GET", Path: "/billing/products/:products_id/prices"},
		Do: func(ctx context.Context, p *PriceSearch) (*Page[*Price], error) {
			q, err := BuildQuery(priceList, p.FilterParams, &p.ListParams, &p.PriceFilter)
			if err != nil {
				return nil, err
			}
			if _, err := s.store.FindProduct(ctx, p.ProductsID); err != nil {
				return nil, err
			}
			q.Filters = append(q.Filters, Filter{Field: "products_id", Values: []any{p.ProductsID}})
			rows, err := s.store.SearchPrices(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[PriceRef, *Price]{
		Name: "billing.prices.get", Summary: "Get a price of a product.",
		HTTP: Route{Verb: "GET", Path: "/billing/products/:products_id/prices/:id"},
		Do:   func(ctx context.Context, p *PriceRef) (*Price, error) { return s.findPriceOf(ctx, p.ProductsID, p.ID) },
	})
	Register(r, Decl[PriceCreate, *Price]{
		Name: "billing.prices.create", Summary: "Add a price to a product.",
		HTTP: Route{Verb: "POST", Path: "/billing/products/:products_id/prices", Created: true}, Idempotent: true,
		Do: s.createPrice,
	})
	Register(r, Decl[PriceUpdate, *Price]{
		Name: "billing.prices.update", Summary: "Change a price's visibility or reference (amounts never change).",
		HTTP: Route{Verb: "PATCH", Path: "/billing/products/:products_id/prices/:id"}, Do: s.updatePrice,
	})
	Register(r, Decl[PriceRef, *Deleted]{
		Name: "billing.prices.delete", Summary: "Delete a price no plan, subscription or invoice uses.",
		HTTP: Route{Verb: "DELETE", Path: "/billing/products/:products_id/prices/:id"},
		Do: func(ctx context.Context, p *PriceRef) (*Deleted, error) {
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				pr, err := s.findPriceOf(ctx, p.ProductsID, p.ID)
				if err != nil {
					return err
				}
				prod, err := s.store.FindProduct(ctx, pr.ProductsID)
				if err != nil {
					return err
				}
				if err := s.store.DeletePrice(ctx, pr.ID); err != nil {
					return err
				}
				return s.audit(ctx, "price", pr.ID, "delete", prod.ResellersID, map[string]any{"object": pr})
			})
			if err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}

// findPriceOf returns price id if it belongs to product productID (not found otherwise).
func (s *Service) findPriceOf(ctx context.Context, productID, id int64) (*Price, error) {
	pr, err := s.store.FindPrice(ctx, id)
	if err != nil {
		return nil, err
	}
	if pr.ProductsID != productID {
		return nil, NotFound("price", id)
	}
	return pr, nil
}

func (s *Service) createPrice(ctx context.Context, p *PriceCreate) (*Price, error) {
	var pr *Price
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		prod, err := s.store.FindProduct(ctx, p.ProductsID)
		if err != nil {
			return err
		}
		if _, err := s.currencyOrBase(ctx, p.Currency); err != nil {
			return err
		}
		pr = &Price{ProductsID: prod.ID, Amount: *p.Amount, Currency: p.Currency, Recurring: *p.Recurring, Schedule: p.Schedule,
			IncludingTax: p.IncludingTax, Public: p.Public == nil || *p.Public, UsageMetric: p.UsageMetric,
			ExternalReference: p.ExternalReference, LiveMode: prod.LiveMode}
		if err := s.store.CreatePrice(ctx, pr); err != nil {
			return err
		}
		return s.audit(ctx, "price", pr.ID, "create", prod.ResellersID, map[string]any{"object": pr})
	})
	return pr, err
}

func (s *Service) updatePrice(ctx context.Context, p *PriceUpdate) (*Price, error) {
	var out *Price
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		pr, err := s.findPriceOf(ctx, p.ProductsID, p.ID)
		if err != nil {
			return err
		}
		prod, err := s.store.FindProduct(ctx, pr.ProductsID)
		if err != nil {
			return err
		}
		ch := newChanges()
		if p.Public != nil {
			ch.set("public", pr.Public, *p.Public, func() { pr.Public = *p.Public })
		}
		if p.ExternalReference != nil {
			ch.set("external_reference", pr.ExternalReference, *p.ExternalReference, func() { pr.ExternalReference = *p.ExternalReference })
		}
		out = pr
		if len(ch.fields) == 0 {
			return nil
		}
		if err := s.store.UpdatePrice(ctx, pr, ch.fields); err != nil {
			return err
		}
		return s.audit(ctx, "price", pr.ID, "update", prod.ResellersID, ch.changes)
	})
	return out, err
}

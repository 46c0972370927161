package service

import (
	"context"
	"maps"
	"slices"
	"strings"
)

func (s *Service) registerPlans() {
	r := s.registry
	Register(r, Decl[PlanSearch, *Page[*Plan]]{
		Name: "billing.plans.search", Summary: "List subscription plans.", HTTP: Route{Verb: "GET", Path: "/billing/plans"},
		Do: func(ctx context.Context, p *PlanSearch) (*Page[*Plan], error) {
			q, err := BuildQuery(planList, p.FilterParams, &p.ListParams, &p.PlanFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchPlans(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[PlanCount, *Count]{
		Name: "billing.plans.count", Summary: "Count subscription plans.", HTTP: Route{Verb: "GET", Path: "/billing/plans/count"},
		Do: func(ctx context.Context, p *PlanCount) (*Count, error) {
			q, err := BuildQuery(planList, p.FilterParams, nil, &p.PlanFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountPlans(ctx, q)
			return &Count{Count: n}, err
		},
	})
	Register(r, Decl[IDParams, *Plan]{
		Name: "billing.plans.get", Summary: "Get a subscription plan.", HTTP: Route{Verb: "GET", Path: "/billing/plans/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Plan, error) { return s.store.FindPlan(ctx, p.ID) },
	})
	Register(r, Decl[PlanCreate, *Plan]{
		Name: "billing.plans.create", Summary: "Create a subscription plan for a product and some of its prices.",
		HTTP: Route{Verb: "POST", Path: "/billing/plans", Created: true}, Idempotent: true, Do: s.createPlan,
	})
	Register(r, Decl[PlanUpdate, *Plan]{
		Name: "billing.plans.update", Summary: "Change a subscription plan (existing subscriptions keep their price).",
		HTTP: Route{Verb: "PATCH", Path: "/billing/plans/:id"}, Do: s.updatePlan,
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "billing.plans.delete", Summary: "Delete a plan no subscription uses.",
		HTTP: Route{Verb: "DELETE", Path: "/billing/plans/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Deleted, error) {
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				pl, err := s.store.FindPlan(ctx, p.ID)
				if err != nil {
					return err
				}
				if err := s.store.DeletePlan(ctx, pl.ID); err != nil {
					return err
				}
				return s.audit(ctx, "plan", pl.ID, "delete", pl.ResellersID, map[string]any{"object": pl})
			})
			if err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}

func (s *Service) createPlan(ctx context.Context, p *PlanCreate) (*Plan, error) {
	var pl *Plan
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		prod, err := s.store.FindProduct(ctx, p.ProductsID)
		if err != nil {
			return err
		}
		if err := s.checkPlanPrices(ctx, prod.ID, p.Prices); err != nil {
			return err
		}
		pl = &Plan{ResellersID: prod.ResellersID, ProductsID: prod.ID, CodeName: p.CodeName, Name: strings.TrimSpace(p.Name),
			PerSeat: p.PerSeat, FreeTrialDays: p.FreeTrialDays, UserCount: p.UserCount, Features: p.Features,
			Limits: p.Limits, Prices: p.Prices, Public: p.Public == nil || *p.Public, LiveMode: prod.LiveMode}
		if err := s.store.CreatePlan(ctx, pl); err != nil {
			return err
		}
		return s.audit(ctx, "plan", pl.ID, "create", pl.ResellersID, map[string]any{"object": pl})
	})
	return pl, err
}

func (s *Service) updatePlan(ctx context.Context, p *PlanUpdate) (*Plan, error) {
	var out *Plan
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		pl, err := s.store.FindPlan(ctx, p.ID)
		if err != nil {
			return err
		}
		ch := newChanges()
		if p.CodeName != nil {
			ch.set("code_name", pl.CodeName, *p.CodeName, func() { pl.CodeName = *p.CodeName })
		}
		if p.Name != nil {
			ch.set("name", pl.Name, strings.TrimSpace(*p.Name), func() { pl.Name = strings.TrimSpace(*p.Name) })
		}
		if p.PerSeat != nil {
			ch.set("per_seat", pl.PerSeat, *p.PerSeat, func() { pl.PerSeat = *p.PerSeat })
		}
		if p.FreeTrialDays != nil {
			ch.set("free_trial_days", pl.FreeTrialDays, *p.FreeTrialDays, func() { pl.FreeTrialDays = *p.FreeTrialDays })
		}
		if p.UserCount != nil {
			ch.set("user_count", pl.UserCount, *p.UserCount, func() { pl.UserCount = *p.UserCount })
		}
		if p.Features != nil && !slices.Equal(*p.Features, pl.Features) {
			ch.changes["features"] = Change{From: pl.Features, To: *p.Features}
			pl.Features, ch.fields = *p.Features, append(ch.fields, "features")
		}
		if p.Limits != nil && !maps.Equal(*p.Limits, pl.Limits) {
			ch.changes["limits"] = Change{From: pl.Limits, To: *p.Limits}
			pl.Limits, ch.fields = *p.Limits, append(ch.fields, "limits")
		}
		if p.Prices != nil && !slices.Equal(*p.Prices, pl.Prices) {
			if err := s.checkPlanPrices(ctx, pl.ProductsID, *p.Prices); err != nil {
				return err
			}
			ch.changes["prices"] = Change{From: pl.Prices, To: *p.Prices}
			pl.Prices, ch.fields = *p.Prices, append(ch.fields, "prices")
		}
		if p.Public != nil {
			ch.set("public", pl.Public, *p.Public, func() { pl.Public = *p.Public })
		}
		out = pl
		if len(ch.fields) == 0 {
			return nil
		}
		if err := s.store.UpdatePlan(ctx, pl, ch.fields); err != nil {
			return err
		}
		return s.audit(ctx, "plan", pl.ID, "update", pl.ResellersID, ch.changes)
	})
	return out, err
}

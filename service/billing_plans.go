package service

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// codeNameRe is the shape of a plan's code name: it starts with a letter, so
// a plan reference made only of digits is always an id.
var codeNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// Plan is a subscription plan (seed 002): a product sold on a schedule at one
// of its prices, per seat or not, with a free trial, features and limits.
// Plans belong to their product's reseller.
type Plan struct {
	ID            int64            `json:"id"`
	ResellersID   *int64           `json:"resellers_id" doc:"the product's reseller"`
	ProductsID    int64            `json:"products_id"`
	CodeName      string           `json:"code_name" doc:"unique in the reseller and mode; subscriptions may name the plan by it"`
	Name          string           `json:"name"`
	PerSeat       bool             `json:"per_seat" doc:"billed per seat (subscriptions may add and remove seats)"`
	FreeTrialDays int              `json:"free_trial_days"`
	UserCount     int              `json:"user_count" doc:"users included"`
	Features      []string         `json:"features"`
	Limits        map[string]int64 `json:"limits" doc:"feature code → limit"`
	Prices        []int64          `json:"prices" doc:"ids of the product's prices the plan is sold at"`
	Public        bool             `json:"public"`
	LiveMode      bool             `json:"live_mode"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
}

// PlanFilter are the typed filters of billing.plans.search and .count.
type PlanFilter struct {
	ID          IDs     `json:"id" filter:"id"`
	CodeName    Strings `json:"code_name" filter:"code_name"`
	ProductsID  IDs     `json:"products_id" filter:"products_id"`
	ResellersID IDs     `json:"resellers_id" filter:"resellers_id"`
	Public      *bool   `json:"public" filter:"public"`
}

// PlanSearch are the params of billing.plans.search.
type PlanSearch struct {
	ListParams
	PlanFilter
}

// PlanCount are the params of billing.plans.count.
type PlanCount struct {
	FilterParams
	PlanFilter
}

var planList = ListSpec{Sort: []string{"id", "name", "code_name", "created_at", "updated_at"}, Search: []string{"name", "code_name"}}

// PlanCreate are the params of billing.plans.create.
type PlanCreate struct {
	ProductsID    int64            `json:"products_id" required:"true"`
	CodeName      string           `json:"code_name" required:"true" doc:"a letter, then letters, digits, _ . -"`
	Name          string           `json:"name" required:"true"`
	PerSeat       bool             `json:"per_seat"`
	FreeTrialDays int              `json:"free_trial_days" doc:"0 to 730"`
	UserCount     int              `json:"user_count"`
	Features      []string         `json:"features"`
	Limits        map[string]int64 `json:"limits"`
	Prices        []int64          `json:"prices" required:"true" doc:"ids of prices of the product"`
	Public        *bool            `json:"public" doc:"default true"`
}

// Validate checks the plan's fields.
func (p *PlanCreate) Validate() error {
	v := Validation{}
	checkPlan(v, &p.CodeName, &p.Name, &p.FreeTrialDays, &p.UserCount, p.Features, p.Limits, &p.Prices)
	return v.Err()
}

// PlanUpdate are the params of billing.plans.update.
type PlanUpdate struct {
	ID            int64             `json:"id" required:"true"`
	CodeName      *string           `json:"code_name"`
	Name          *string           `json:"name"`
	PerSeat       *bool             `json:"per_seat"`
	FreeTrialDays *int              `json:"free_trial_days"`
	UserCount     *int              `json:"user_count"`
	Features      *[]string         `json:"features"`
	Limits        *map[string]int64 `json:"limits"`
	Prices        *[]int64          `json:"prices" doc:"replaces the price list"`
	Public        *bool             `json:"public"`
}

// Validate checks the fields sent.
func (p *PlanUpdate) Validate() error {
	v := Validation{}
	var feats []string
	var limits map[string]int64
	if p.Features != nil {
		feats = *p.Features
	}
	if p.Limits != nil {
		limits = *p.Limits
	}
	checkPlan(v, p.CodeName, p.Name, p.FreeTrialDays, p.UserCount, feats, limits, p.Prices)
	return v.Err()
}

func checkPlan(v Validation, code, name *string, trial, users *int, feats []string, limits map[string]int64, prices *[]int64) {
	if code != nil {
		v.Check(codeNameRe.MatchString(*code), "code_name", "must start with a letter and have at most 64 letters, digits, _ . or -")
	}
	if name != nil {
		v.Check(strings.TrimSpace(*name) != "" && len(*name) <= 200, "name", "must be 1 to 200 characters")
	}
	if trial != nil {
		v.Check(*trial >= 0 && *trial <= 730, "free_trial_days", "must be 0 to 730")
	}
	if users != nil {
		v.Check(*users >= 0, "user_count", "must not be negative")
	}
	v.Check(len(feats) <= 100, "features", "must have at most 100 entries")
	for _, f := range feats {
		v.Check(f != "" && len(f) <= 100, "features", "entries must be 1 to 100 characters")
	}
	v.Check(len(limits) <= 100, "limits", "must have at most 100 entries")
	for k, n := range limits {
		v.Check(k != "" && len(k) <= 100 && n >= 0, "limits", "keys must be 1 to 100 characters and limits not negative")
	}
	if prices != nil {
		*prices = slices.Compact(slices.Sorted(slices.Values(*prices)))
		v.Check(len(*prices) >= 1 && len(*prices) <= 50, "prices", "must name 1 to 50 prices")
	}
}

// PlanRef names a plan by id or by code name: 5, "5" or "pro".
type PlanRef struct {
	ID   int64
	Code string
}

// UnmarshalJSON reads an id (number or digits) or a code name.
func (r *PlanRef) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &r.ID); err == nil && r.ID > 0 {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errString("must be a plan id or code name")
	}
	if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
		r.ID = id
		return nil
	}
	if !codeNameRe.MatchString(s) {
		return errString("must be a plan id or code name")
	}
	r.Code = s
	return nil
}

// MarshalJSON writes the id or the code name.
func (r PlanRef) MarshalJSON() ([]byte, error) {
	if r.Code != "" {
		return json.Marshal(r.Code)
	}
	return json.Marshal(r.ID)
}

// TypeDescription names the wire type in errors and documents.
func (PlanRef) TypeDescription() string { return "a plan id or code name" }

// resolvePlan finds the plan named by ref in the caller's scope. A code name
// used by several plans in the caller's subtree is invalid_params (name the
// id); a missing one is not_found.
func (s *Service) resolvePlan(ctx context.Context, field string, ref PlanRef) (*Plan, error) {
	if ref.Code == "" {
		return s.store.FindPlan(ctx, ref.ID)
	}
	rows, err := s.store.SearchPlans(ctx, Query{Filters: []Filter{{Field: "code_name", Values: []any{ref.Code}}},
		Order: []Order{{Field: "id"}}, Limit: 2})
	if err != nil {
		return nil, err
	}
	switch len(rows) {
	case 0:
		return nil, NotFound("plan", strconv.Quote(ref.Code))
	case 1:
		return rows[0], nil
	}
	return nil, InvalidField(field, "code name "+strconv.Quote(ref.Code)+" names plans of several resellers: use the plan's id")
}

// checkPlanPrices refuses prices that are not prices of the plan's product.
func (s *Service) checkPlanPrices(ctx context.Context, productID int64, ids []int64) error {
	for _, id := range ids {
		pr, err := s.store.FindPrice(ctx, id)
		if err != nil && CodeOf(err) != CodeNotFound {
			return err
		}
		if err != nil || pr.ProductsID != productID {
			return InvalidField("prices", "price "+strconv.FormatInt(id, 10)+" is not a price of product "+strconv.FormatInt(productID, 10))
		}
	}
	return nil
}

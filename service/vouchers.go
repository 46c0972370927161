package service

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Voucher types and durations (seed 002).
const (
	VoucherPercentage = "percentage"
	VoucherFixed      = "fixed"
	DurationOnce      = "once"
	DurationRepeating = "repeating"
)

var voucherCodeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Voucher is a discount code (seed 002): a percentage or a fixed amount off
// the next invoices of the clients it is applied to — once, or for a number
// of invoices — until it expires or its usage cap is reached. Vouchers
// belong to a reseller and a mode; a code is unique there.
type Voucher struct {
	ID             int64      `json:"id"`
	ResellersID    *int64     `json:"resellers_id"`
	Code           string     `json:"code"`
	Name           string     `json:"name"`
	Type           string     `json:"type" enum:"percentage,fixed"`
	Percentage     *TaxRate   `json:"percentage" doc:"percent off (type percentage), a decimal string"`
	Amount         *int64     `json:"amount" doc:"minor units off (type fixed)"`
	Currency       *string    `json:"currency" doc:"the currency of amount (type fixed)"`
	Duration       string     `json:"duration" enum:"once,repeating"`
	Cycles         int        `json:"cycles" doc:"how many of a client's invoices it lowers (1: once)"`
	ExpiresAt      *time.Time `json:"expires_at" doc:"it cannot be applied from then on"`
	MaxRedemptions *int       `json:"max_redemptions" doc:"how many clients it may be applied to; null: no cap"`
	TimesRedeemed  int        `json:"times_redeemed"`
	Active         bool       `json:"active"`
	LiveMode       bool       `json:"live_mode"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// VoucherRedemption is a voucher applied to a client: it lowers the client's
// next CyclesLeft invoices. A voucher is applied at most once per client.
type VoucherRedemption struct {
	ID         int64     `json:"id"`
	VouchersID int64     `json:"vouchers_id"`
	ClientsID  int64     `json:"clients_id"`
	Code       string    `json:"code"`
	CyclesLeft int       `json:"cycles_left" doc:"invoices it still lowers"`
	AppliedAt  time.Time `json:"applied_at"`
	LiveMode   bool      `json:"live_mode"`
	CreatedAt  time.Time `json:"created_at"`
	// Voucher is the voucher applied (read through the redemption, whoever
	// owns it), for pricing.
	Voucher *Voucher `json:"-"`
}

// VoucherFilter are the typed filters of billing.vouchers.search.
type VoucherFilter struct {
	ID          IDs     `json:"id" filter:"id"`
	Code        Strings `json:"code" filter:"code"`
	Type        Strings `json:"type" filter:"type"`
	ResellersID IDs     `json:"resellers_id" filter:"resellers_id"`
	Active      *bool   `json:"active" filter:"active"`
}

// VoucherSearch are the params of billing.vouchers.search.
type VoucherSearch struct {
	ListParams
	VoucherFilter
}

var voucherList = ListSpec{Sort: []string{"id", "code", "created_at", "expires_at"}, Search: []string{"code", "name"}}

// VoucherCreate are the params of billing.vouchers.create.
type VoucherCreate struct {
	Code           string   `json:"code" required:"true" doc:"letters, digits, _ . -; unique in the reseller and mode"`
	Name           string   `json:"name"`
	ResellersID    *int64   `json:"resellers_id" doc:"default: the caller's reseller"`
	Type           string   `json:"type" required:"true" enum:"percentage,fixed"`
	Percentage     *TaxRate `json:"percentage" doc:"type percentage: percent off, above 0 and at most 100"`
	Amount         *int64   `json:"amount" doc:"type fixed: minor units off"`
	Currency       string   `json:"currency" doc:"type fixed: the currency of amount"`
	Duration       string   `json:"duration" enum:"once,repeating" doc:"default once"`
	Cycles         *int     `json:"cycles" doc:"repeating: how many invoices (2 to 120)"`
	ExpiresAt      *Time    `json:"expires_at"`
	MaxRedemptions *int     `json:"max_redemptions" doc:"usage cap: how many clients it may be applied to"`
}

// Validate checks the voucher's terms.
func (p *VoucherCreate) Validate() error {
	v := Validation{}
	p.Currency = strings.ToUpper(p.Currency)
	if p.Duration == "" {
		p.Duration = DurationOnce
	}
	v.Check(voucherCodeRe.MatchString(p.Code), "code", "must be 1 to 64 letters, digits, _ . or -, starting with a letter or digit")
	v.Check(len(p.Name) <= 200, "name", "must be at most 200 characters")
	switch p.Type {
	case VoucherPercentage:
		v.Check(p.Percentage != nil && p.Percentage.IsSet() && p.Percentage.r.Sign() > 0, "percentage", "is required: above 0 and at most 100")
		v.Check(p.Amount == nil && p.Currency == "", "amount", "is for fixed vouchers")
	case VoucherFixed:
		v.Check(p.Amount != nil && *p.Amount > 0 && *p.Amount <= maxUnitAmount, "amount", "is required: 1 to 10^12 minor units")
		v.Check(currencyRe.MatchString(p.Currency), "currency", "is required with a fixed amount: a 3-letter ISO 4217 code")
		v.Check(p.Percentage == nil, "percentage", "is for percentage vouchers")
	default:
		v.Add("type", "must be percentage or fixed")
	}
	switch p.Duration {
	case DurationOnce:
		v.Check(p.Cycles == nil || *p.Cycles == 1, "cycles", "must be 1 (or absent) for once")
	case DurationRepeating:
		v.Check(p.Cycles != nil && *p.Cycles >= 2 && *p.Cycles <= 120, "cycles", "is required for repeating: 2 to 120")
	default:
		v.Add("duration", "must be once or repeating")
	}
	v.Check(p.MaxRedemptions == nil || *p.MaxRedemptions >= 1, "max_redemptions", "must be at least 1")
	return v.Err()
}

// VoucherUpdate are the params of billing.vouchers.update: the terms a
// client was promised never change; name, activity, expiry and cap may.
type VoucherUpdate struct {
	ID             int64   `json:"id" required:"true"`
	Name           *string `json:"name"`
	Active         *bool   `json:"active" doc:"an inactive voucher cannot be applied"`
	ExpiresAt      *Time   `json:"expires_at"`
	MaxRedemptions *int    `json:"max_redemptions" doc:"not below times_redeemed"`
}

// Validate checks the fields sent.
func (p *VoucherUpdate) Validate() error {
	v := Validation{}
	v.Check(p.Name == nil || len(*p.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(p.MaxRedemptions == nil || *p.MaxRedemptions >= 1, "max_redemptions", "must be at least 1")
	return v.Err()
}

// VoucherApply are the params of clients.vouchers.apply (seed 002's "Apply
// voucher").
type VoucherApply struct {
	ID   int64  `json:"id" required:"true" doc:"the client"`
	Code string `json:"code" required:"true"`
}

func (s *Service) registerVouchers() {
	r := s.registry
	Register(r, Decl[VoucherSearch, *Page[*Voucher]]{
		Name: "billing.vouchers.search", Summary: "List vouchers.", HTTP: Route{Verb: "GET", Path: "/billing/vouchers"},
		Do: func(ctx context.Context, p *VoucherSearch) (*Page[*Voucher], error) {
			q, err := BuildQuery(voucherList, p.FilterParams, &p.ListParams, &p.VoucherFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchVouchers(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[IDParams, *Voucher]{
		Name: "billing.vouchers.get", Summary: "Get a voucher.", HTTP: Route{Verb: "GET", Path: "/billing/vouchers/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Voucher, error) { return s.store.FindVoucher(ctx, p.ID) },
	})
	Register(r, Decl[VoucherCreate, *Voucher]{
		Name: "billing.vouchers.create", Summary: "Create a voucher: a percentage or an amount off a client's next invoice(s).",
		HTTP: Route{Verb: "POST", Path: "/billing/vouchers", Created: true}, Idempotent: true, Do: s.createVoucher,
	})
	Register(r, Decl[VoucherUpdate, *Voucher]{
		Name: "billing.vouchers.update", Summary: "Change a voucher's name, activity, expiry or usage cap.",
		HTTP: Route{Verb: "PATCH", Path: "/billing/vouchers/:id"}, Do: s.updateVoucher,
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "billing.vouchers.delete", Summary: "Delete a voucher no client has applied (deactivate it otherwise).",
		HTTP: Route{Verb: "DELETE", Path: "/billing/vouchers/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Deleted, error) {
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				v, err := s.store.FindVoucher(ctx, p.ID)
				if err != nil {
					return err
				}
				if err := s.store.DeleteVoucher(ctx, v.ID); err != nil {
					return err
				}
				return s.audit(ctx, "voucher", v.ID, "delete", v.ResellersID, map[string]any{"object": v})
			})
			if err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
	Register(r, Decl[VoucherApply, *VoucherRedemption]{
		Name: "clients.vouchers.apply", Summary: "Apply a voucher code to a client: it lowers the client's next invoice(s); once per client.",
		HTTP: Route{Verb: "POST", Path: "/clients/:id/vouchers"}, Idempotent: true,
		Raises: []Code{CodeUnprocessable},
		Do: func(ctx context.Context, p *VoucherApply) (*VoucherRedemption, error) {
			now, err := s.billingNow(ctx)
			if err != nil {
				return nil, err
			}
			var out *VoucherRedemption
			err = s.store.InTx(ctx, func(ctx context.Context) error {
				client, err := s.store.FindClient(ctx, p.ID)
				if err != nil {
					return err
				}
				out, err = s.applyVoucher(ctx, client, p.Code, now)
				return err
			})
			return out, err
		},
	})
}

func (s *Service) createVoucher(ctx context.Context, p *VoucherCreate) (*Voucher, error) {
	rid, err := s.ownerReseller(ctx, p.ResellersID)
	if err != nil {
		return nil, err
	}
	cycles := 1
	if p.Cycles != nil {
		cycles = *p.Cycles
	}
	v := &Voucher{ResellersID: rid, Code: p.Code, Name: strings.TrimSpace(p.Name), Type: p.Type, Percentage: p.Percentage,
		Amount: p.Amount, Duration: p.Duration, Cycles: cycles, ExpiresAt: p.ExpiresAt.In(), MaxRedemptions: p.MaxRedemptions,
		Active: true, LiveMode: PrincipalFrom(ctx).Live}
	if p.Type == VoucherFixed {
		if _, err := s.currencyOrBase(ctx, p.Currency); err != nil {
			return nil, err
		}
		v.Currency = &p.Currency
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateVoucher(ctx, v); err != nil {
			return err
		}
		return s.audit(ctx, "voucher", v.ID, "create", v.ResellersID, map[string]any{"object": v})
	})
	return v, err
}

func (s *Service) updateVoucher(ctx context.Context, p *VoucherUpdate) (*Voucher, error) {
	var out *Voucher
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		v, err := s.store.FindVoucher(ctx, p.ID)
		if err != nil {
			return err
		}
		ch := newChanges()
		if p.Name != nil {
			ch.set("name", v.Name, strings.TrimSpace(*p.Name), func() { v.Name = strings.TrimSpace(*p.Name) })
		}
		if p.Active != nil {
			ch.set("active", v.Active, *p.Active, func() { v.Active = *p.Active })
		}
		if p.ExpiresAt != nil {
			ch.set("expires_at", ptrString(v.ExpiresAt), p.ExpiresAt.UTC().String(), func() { v.ExpiresAt = p.ExpiresAt.In() })
		}
		if p.MaxRedemptions != nil {
			if *p.MaxRedemptions < v.TimesRedeemed {
				return InvalidField("max_redemptions", "must not be below times_redeemed ("+strconv.Itoa(v.TimesRedeemed)+")")
			}
			ch.set("max_redemptions", ptrString(v.MaxRedemptions), strconv.Itoa(*p.MaxRedemptions), func() { v.MaxRedemptions = p.MaxRedemptions })
		}
		out = v
		if len(ch.fields) == 0 {
			return nil
		}
		if err := s.store.UpdateVoucher(ctx, v, ch.fields); err != nil {
			return err
		}
		return s.audit(ctx, "voucher", v.ID, "update", v.ResellersID, ch.changes)
	})
	return out, err
}

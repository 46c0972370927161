package service

import (
	"context"
	"math/big"
	"sort"
	"strconv"
	"time"

	"github.com/billgate/billgate/pkg/money"
)

// resolveVoucher finds the voucher called code for client: among the
// vouchers the caller sees with that code, the one of the client's reseller,
// else the only one. Errors: not_found, invalid_params (several, none of the
// client's reseller).
func (s *Service) resolveVoucher(ctx context.Context, field, code string, client *Client) (*Voucher, error) {
	rows, err := s.store.SearchVouchers(ctx, Query{Filters: []Filter{{Field: "code", Values: []any{code}}},
		Order: []Order{{Field: "id"}}, Limit: 100})
	if err != nil {
		return nil, err
	}
	for _, v := range rows {
		if sameReseller(v.ResellersID, client.ResellersID) {
			return v, nil
		}
	}
	switch len(rows) {
	case 0:
		return nil, NotFound("voucher", strconv.Quote(code))
	case 1:
		return rows[0], nil
	}
	return nil, InvalidField(field, "code "+strconv.Quote(code)+" names vouchers of several resellers, none the client's")
}

func sameReseller(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// usableVoucher refuses a voucher that cannot be applied to client now.
func usableVoucher(v *Voucher, client *Client, now time.Time) error {
	switch {
	case !v.Active:
		return Unprocessable("voucher_inactive", "voucher %s is not active", v.Code)
	case v.ExpiresAt != nil && !now.Before(*v.ExpiresAt):
		return Unprocessable("voucher_expired", "voucher %s expired at %s", v.Code, v.ExpiresAt.Format(time.RFC3339))
	case v.Type == VoucherFixed && v.Currency != nil && *v.Currency != client.Currency:
		return Unprocessable("voucher_currency", "voucher %s is in %s: client %d pays in %s", v.Code, *v.Currency, client.ID, client.Currency)
	case v.MaxRedemptions != nil && v.TimesRedeemed >= *v.MaxRedemptions:
		return Unprocessable("voucher_exhausted", "voucher %s has been applied %d times, its cap", v.Code, v.TimesRedeemed)
	}
	return nil
}

// applyVoucher applies the voucher called code to client, inside the
// transaction of ctx. The unique (voucher, client) index refuses a second
// application (conflict) and a conditional increment enforces the usage cap
// under concurrency (unprocessable voucher_exhausted). Errors: not_found,
// conflict, unprocessable (voucher_inactive, voucher_expired,
// voucher_currency, voucher_exhausted).
func (s *Service) applyVoucher(ctx context.Context, client *Client, code string, now time.Time) (*VoucherRedemption, error) {
	v, err := s.resolveVoucher(ctx, "code", code, client)
	if err != nil {
		return nil, err
	}
	red := &VoucherRedemption{VouchersID: v.ID, ClientsID: client.ID, Code: v.Code, CyclesLeft: v.Cycles, AppliedAt: now,
		LiveMode: client.LiveMode, Voucher: v}
	if err := s.store.CreateRedemption(ctx, red); err != nil {
		if CodeOf(err) == CodeConflict {
			return nil, &Error{Code: CodeConflict, Message: "voucher " + v.Code + " is already applied to client " + itoa(client.ID),
				Fields: map[string]string{"code": "already applied to this client"}}
		}
		return nil, err
	}
	if err := usableVoucher(v, client, now); err != nil {
		return nil, err
	}
	ok, err := s.store.CountRedemption(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Unprocessable("voucher_exhausted", "voucher %s has reached its usage cap", v.Code)
	}
	if err := s.audit(ctx, "voucher", v.ID, "update", v.ResellersID, map[string]any{
		"times_redeemed": Change{From: v.TimesRedeemed, To: v.TimesRedeemed + 1}}); err != nil {
		return nil, err
	}
	return red, s.audit(ctx, "voucher_redemption", red.ID, "create", client.ResellersID, map[string]any{"object": red})
}

// discountGroup is the part of an invoice's lines that share a tax rate and
// inclusiveness; a voucher discounts each group with its own line.
type discountGroup struct {
	rate      TaxRate
	inclusive bool
	left      *big.Rat // what is still there to discount
}

// discountLines prices the discounts the client's applied vouchers (reds,
// oldest first) give an invoice made of lines: a percentage of each group's
// amount, or a fixed amount shared between the groups in whole minor units
// (so a one-group invoice is lowered by exactly that amount), never below
// zero. It returns the lines and the redemptions that gave a discount (the
// caller uses up one of their cycles when the invoice is made).
func discountLines(reds []*VoucherRedemption, lines []draftLine, currency string) ([]draftLine, []*VoucherRedemption) {
	var groups []*discountGroup
	for _, l := range lines {
		if l.exact.Sign() <= 0 {
			continue
		}
		var g *discountGroup
		for _, e := range groups {
			if e.inclusive == l.inclusive && e.rate.String() == l.line.TaxRate.String() {
				g = e
			}
		}
		if g == nil {
			g = &discountGroup{rate: l.line.TaxRate, inclusive: l.inclusive, left: new(big.Rat)}
			groups = append(groups, g)
		}
		g.left.Add(g.left, l.exact)
	}
	var out []draftLine
	var used []*VoucherRedemption
	for _, red := range reds {
		v := red.Voucher
		if v == nil || red.CyclesLeft <= 0 || (v.Type == VoucherFixed && (v.Currency == nil || *v.Currency != currency)) {
			continue
		}
		cuts := voucherCuts(v, groups)
		gave := false
		for i, cut := range cuts {
			if cut.Sign() <= 0 {
				continue
			}
			gave = true
			groups[i].left.Sub(groups[i].left, cut)
			amount, _ := money.Round(cut)
			out = append(out, draftLine{
				line: InvoiceLine{Kind: LineDiscount, Description: "Voucher " + v.Code + " (" + voucherTerms(v) + ")", Quantity: 1,
					UnitAmount: -amount, TaxRate: groups[i].rate},
				exact: new(big.Rat).Neg(cut), inclusive: groups[i].inclusive,
			})
		}
		if gave {
			used = append(used, red)
		}
	}
	return out, used
}

// voucherCuts is what voucher v takes off each group.
func voucherCuts(v *Voucher, groups []*discountGroup) []*big.Rat {
	cuts := make([]*big.Rat, len(groups))
	if v.Type == VoucherPercentage {
		f := v.Percentage.fraction()
		for i, g := range groups {
			cuts[i] = new(big.Rat).Mul(g.left, f)
		}
		return cuts
	}
	total := new(big.Rat)
	for _, g := range groups {
		total.Add(total, g.left)
	}
	amount := big.NewRat(*v.Amount, 1)
	if amount.Cmp(total) >= 0 { // the whole invoice
		for i, g := range groups {
			cuts[i] = new(big.Rat).Set(g.left)
		}
		return cuts
	}
	// Shares of the amount in whole minor units, largest remainders first.
	type rem struct {
		i    int
		frac *big.Rat
	}
	var rems []rem
	var given int64
	for i, g := range groups {
		share := new(big.Rat).Quo(new(big.Rat).Mul(amount, g.left), total)
		whole := new(big.Int).Quo(share.Num(), share.Denom()).Int64()
		cuts[i] = big.NewRat(whole, 1)
		given += whole
		rems = append(rems, rem{i, new(big.Rat).Sub(share, big.NewRat(whole, 1))})
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].frac.Cmp(rems[b].frac) > 0 })
	for k := 0; given < *v.Amount && k < len(rems); k++ {
		next := new(big.Rat).Add(cuts[rems[k].i], big.NewRat(1, 1))
		if next.Cmp(groups[rems[k].i].left) <= 0 {
			cuts[rems[k].i] = next
			given++
		}
	}
	return cuts
}

// voucherTerms describes a voucher's discount: "10% off", "amount off".
func voucherTerms(v *Voucher) string {
	if v.Type == VoucherPercentage {
		return v.Percentage.String() + "% off"
	}
	return "amount off"
}

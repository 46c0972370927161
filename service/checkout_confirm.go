package service

import (
	"context"
	"math/big"
	"time"

	"github.com/billgate/billgate/pkg/period"
)

// confirmCheckout confirms checkout id in one transaction: it applies the
// voucher to the client, starts the subscriptions (active, their first
// period from now), and issues and finalizes the invoice of the quote —
// refusing (quote_changed) when the invoice would no longer match it.
// Errors: not_found, unprocessable (invalid_state: confirmed already;
// client_not_active; quote_changed; the voucher's refusals), conflict (the
// voucher is applied to the client already).
func (s *Service) confirmCheckout(ctx context.Context, p *IDParams) (*Checkout, error) {
	now, err := s.billingNow(ctx)
	if err != nil {
		return nil, err
	}
	var co *Checkout
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if co, err = s.store.LockCheckout(ctx, p.ID); err != nil {
			return err
		}
		if co.Status != CheckoutOpen {
			return Unprocessable("invalid_state", "checkout %d is %s: it can be confirmed once", co.ID, co.Status)
		}
		// The lock order of the billing run: the client's vouchers, then the client.
		if _, err := s.store.LockActiveRedemptions(ctx, co.ClientsID); err != nil {
			return err
		}
		client, err := s.store.LockClient(ctx, co.ClientsID)
		if err != nil {
			return err
		}
		if client.Status != ClientActive {
			return Unprocessable("client_not_active", "client %d is %s", client.ID, client.Status)
		}
		if co.VouchersID != nil {
			red, err := s.applyVoucher(ctx, client, co.Voucher, now)
			if err != nil {
				return err
			}
			if red.VouchersID != *co.VouchersID {
				return Unprocessable("quote_changed", "voucher %s now names another voucher: make a new checkout", co.Voucher)
			}
		}
		var subs []*Subscription
		inv, used, err := s.checkoutInvoice(ctx, co, client, nil, now, &subs)
		if err != nil {
			return err
		}
		if inv.Subtotal != co.Subtotal || inv.Tax != co.Tax || inv.Total != co.Total {
			return Unprocessable("quote_changed", "checkout %d was quoted %d, it now comes to %d (tax settings or vouchers changed): make a new checkout",
				co.ID, co.Total, inv.Total)
		}
		inv.Memo = "checkout " + itoa(co.ID)
		if _, err := s.store.CreateInvoice(ctx, inv); err != nil {
			return err
		}
		if err := s.audit(ctx, "invoice", inv.ID, "create", client.ResellersID, map[string]any{"object": inv}); err != nil {
			return err
		}
		if err := s.finalizeInvoice(ctx, inv, client, now); err != nil {
			return err
		}
		for _, red := range used {
			if err := s.store.UseRedemption(ctx, red.ID); err != nil {
				return err
			}
		}
		co.Status, co.InvoicesID, co.ConfirmedAt, co.Subscriptions = CheckoutConfirmed, &inv.ID, &now, []int64{}
		for _, sub := range subs {
			co.Subscriptions = append(co.Subscriptions, sub.ID)
		}
		if err := s.store.UpdateCheckout(ctx, co, []string{"status", "invoices_id", "subscriptions", "confirmed_at"}); err != nil {
			return err
		}
		return s.audit(ctx, "checkout", co.ID, "update", client.ResellersID, map[string]any{
			"status": Change{From: CheckoutOpen, To: CheckoutConfirmed}, "invoices_id": inv.ID, "subscriptions": co.Subscriptions})
	})
	return co, err
}

// checkoutInvoice prices the draft invoice of checkout co at now: one line
// per item (the first period of a recurring price, a one-off price times
// its quantity), then the discounts of the client's vouchers with cycles
// left and of extra (the checkout's voucher before it is applied). With
// subs set, it also starts the subscriptions. It returns the redemptions
// that gave a discount.
func (s *Service) checkoutInvoice(ctx context.Context, co *Checkout, client *Client, extra *VoucherRedemption, now time.Time,
	subs *[]*Subscription) (*Invoice, []*VoucherRedemption, error) {
	loc := s.clientLocation(client)
	var lines []draftLine
	for i, it := range co.Items {
		at := "lines[" + itoa(int64(i)) + "]"
		price, err := s.store.FindPrice(ctx, it.PricesID)
		if err != nil {
			return nil, nil, err
		}
		if price.Currency != client.Currency {
			return nil, nil, InvalidField(at+".price", "is in "+price.Currency+", the client pays in "+client.Currency)
		}
		if !price.Recurring {
			if it.PlansID != nil {
				return nil, nil, InvalidField(at+".plan", "is for recurring prices: a one-off price is charged once")
			}
			prod, err := s.store.FindProduct(ctx, price.ProductsID)
			if err != nil {
				return nil, nil, err
			}
			pid := price.ID
			lines = append(lines, draftLine{line: InvoiceLine{Kind: LineManual, Description: prod.Name + " (one-off)", PricesID: &pid,
				Quantity: it.Quantity, UnitAmount: price.Amount, TaxRate: clientTaxRate(client, prod.TaxType)},
				exact: big.NewRat(price.Amount*it.Quantity, 1), inclusive: price.IncludingTax})
			continue
		}
		if it.PlansID == nil {
			return nil, nil, InvalidField(at+".plan", "is required for a recurring price: the plan to subscribe to")
		}
		plan, err := s.store.FindPlan(ctx, *it.PlansID)
		if err != nil {
			return nil, nil, err
		}
		if _, err := s.planPrice(ctx, at+".price", plan, &price.ID, "", client.Currency); err != nil {
			return nil, nil, err
		}
		if it.Quantity != 1 && !plan.PerSeat {
			return nil, nil, InvalidField(at+".quantity", "plan "+plan.CodeName+" is not per seat")
		}
		end := period.Boundary(now, price.Unit(), 1, loc)
		l, err := s.subscriptionLine(ctx, client, plan, price, LineSubscription, it.Quantity, big.NewRat(1, 1), now, end, "")
		if err != nil {
			return nil, nil, err
		}
		lines = append(lines, l)
		if subs != nil {
			sub, err := s.startFromCheckout(ctx, client, plan, price, it.Quantity, loc, now, end, co.ID)
			if err != nil {
				return nil, nil, err
			}
			*subs = append(*subs, sub)
		}
	}
	reds, err := s.store.LockActiveRedemptions(ctx, client.ID)
	if err != nil {
		return nil, nil, err
	}
	if extra != nil {
		for _, r := range reds {
			if r.VouchersID == extra.VouchersID {
				return nil, nil, &Error{Code: CodeConflict, Message: "voucher " + extra.Voucher.Code + " is already applied to client " + itoa(client.ID),
					Fields: map[string]string{"voucher": "already applied to this client"}}
			}
		}
		reds = append(reds, extra)
	}
	disc, used := discountLines(reds, lines, client.Currency)
	inv := &Invoice{ClientsID: client.ID, Kind: InvoiceKindManual, Status: InvoiceDraft, Currency: client.Currency,
		IssuedAt: now, DueAt: dueDate(client, now), LiveMode: client.LiveMode}
	if err := priceInvoice(inv, append(lines, disc...)); err != nil {
		return nil, nil, err
	}
	return inv, used, nil
}

// startFromCheckout starts a subscription to plan at price, active, its
// first period [now, end) billed by the checkout's invoice.
func (s *Service) startFromCheckout(ctx context.Context, client *Client, plan *Plan, price *Price, seats int64, loc *time.Location,
	now, end time.Time, checkout int64) (*Subscription, error) {
	sub := &Subscription{ClientsID: client.ID, PlansID: plan.ID, PricesID: price.ID, Status: SubActive, Seats: seats,
		Schedule: price.Schedule, Currency: price.Currency, Timezone: loc.String(), BillingAnchor: &now,
		CurrentPeriodStart: now, CurrentPeriodEnd: end, CancelRefundType: RefundNone,
		Metadata: map[string]any{"checkout": checkout}, LiveMode: client.LiveMode}
	if err := s.store.CreateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return sub, s.audit(ctx, "subscription", sub.ID, "create", client.ResellersID, map[string]any{"object": sub})
}

package main

import (
	"strings"
	"testing"
	"time"
)

type checkoutView struct {
	ID            int64      `json:"id"`
	Status        string     `json:"status"`
	Lines         []lineView `json:"lines"`
	Subtotal      int64      `json:"subtotal"`
	Tax           int64      `json:"tax"`
	Total         int64      `json:"total"`
	InvoicesID    *int64     `json:"invoices_id"`
	Subscriptions []int64    `json:"subscriptions"`
}

// TestCheckout: a quote for 3 seats of a monthly plan, a one-off setup fee
// and a fixed voucher prices the first period, the fee and the discount with
// 19% tax from the unrounded amounts; confirming it starts the subscription,
// applies the voucher and issues and finalizes an invoice equal to the
// quote, once. A quote whose tax settings changed is not confirmed. The
// client's limits come from its active plans.
func TestCheckout(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(testKeyFor(t, s))
		jun10, jul10 := time.Date(2095, 6, 10, 0, 0, 0, 0, time.UTC), time.Date(2095, 7, 10, 0, 0, 0, 0, time.UTC)
		advance(t, s, a, jun10)
		var prod, monthly, setup, seats, flat, flatPrice idOnly
		s.ok(t, a, "billing.products.create", map[string]any{"name": "Suite", "tax_type": "digital"}, &prod)
		s.ok(t, a, "billing.prices.create", map[string]any{"products_id": prod.ID, "amount": 2000, "currency": "USD", "recurring": true, "schedule": "month"}, &monthly)
		s.ok(t, a, "billing.prices.create", map[string]any{"products_id": prod.ID, "amount": 15000, "currency": "USD", "recurring": false}, &setup)
		s.ok(t, a, "billing.prices.create", map[string]any{"products_id": prod.ID, "amount": 900, "currency": "USD", "recurring": true, "schedule": "month"}, &flatPrice)
		seatsCode := uniq("team")
		s.ok(t, a, "billing.plans.create", map[string]any{"products_id": prod.ID, "code_name": seatsCode, "name": "Team", "per_seat": true,
			"prices": []int64{monthly.ID}, "features": []string{"sso", "api"}, "limits": map[string]any{"api": 100}, "user_count": 2}, &seats)
		s.ok(t, a, "billing.plans.create", map[string]any{"products_id": prod.ID, "code_name": uniq("reports"), "name": "Reports",
			"prices": []int64{flatPrice.ID}, "features": []string{"reports", "api"}, "limits": map[string]any{"api": 50, "exports": 5}, "user_count": 1}, &flat)
		var client idOnly
		s.ok(t, a, "clients.create", map[string]any{"name": uniq("shop "), "currency": "USD", "timezone": "UTC", "digital_tax_rate": "19"}, &client)
		code := uniq("WELCOME")
		s.ok(t, a, "billing.vouchers.create", map[string]any{"code": code, "type": "fixed", "amount": 1000, "currency": "USD"}, nil)

		lines := []map[string]any{{"price": monthly.ID, "plan": seatsCode, "quantity": 3}, {"price": setup.ID}}
		var co checkoutView
		s.ok(t, a, "billing.checkout.create", map[string]any{"clients_id": client.ID, "lines": lines, "voucher": code}, &co)
		if co.Status != "open" || len(co.Lines) != 3 || co.Subtotal != 6000+15000-1000 || co.Tax != 3800 || co.Total != 23800 {
			t.Fatalf("quote: %+v", co)
		}
		wantLine(t, invoiceView{ID: co.ID, Lines: co.Lines}, 0, "subscription", 3, 2000, 6000, "19", jun10, jul10)
		if l := co.Lines[1]; l.Kind != "manual" || l.Quantity != 1 || l.Amount != 15000 || l.TaxRate != "19" {
			t.Errorf("setup line: %+v", l)
		}
		if l := co.Lines[2]; l.Kind != "discount" || l.Amount != -1000 || l.TaxRate != "19" {
			t.Errorf("discount line: %+v", l)
		}

		var done checkoutView
		s.ok(t, a, "billing.checkout.confirm", map[string]any{"id": co.ID}, &done)
		if done.Status != "confirmed" || done.InvoicesID == nil || len(done.Subscriptions) != 1 {
			t.Fatalf("confirmed: %+v", done)
		}
		var inv invoiceView
		s.ok(t, a, "billing.invoices.get", map[string]any{"id": *done.InvoicesID}, &inv)
		if inv.Status != "finalized" || inv.Subtotal != co.Subtotal || inv.Tax != co.Tax || inv.Total != co.Total || len(inv.Lines) != 3 {
			t.Errorf("checkout invoice: %+v", inv)
		}
		ledgerAgrees(t, s, a, client.ID, -23800, "checkout confirmed")
		var sub subView
		s.ok(t, a, "billing.subscriptions.get", map[string]any{"id": done.Subscriptions[0]}, &sub)
		if sub.Status != "active" || sub.Seats != 3 || sub.PlansID != seats.ID || !sub.CurrentPeriodStart.Equal(jun10) || !sub.CurrentPeriodEnd.Equal(jul10) {
			t.Errorf("subscription: %+v", sub)
		}
		r := s.rpc(t, a, "billing.checkout.confirm", map[string]any{"id": co.ID})
		if r.Err == nil || !strings.Contains(string(r.Err.Data), "invalid_state") {
			t.Errorf("confirmed twice: %+v %s", r.Err, r.Result)
		}
		wantCode(t, s.rpc(t, a, "clients.vouchers.apply", map[string]any{"id": client.ID, "code": code}), "conflict", "the checkout's voucher again")

		// A quote whose tax changed since is refused, and makes nothing.
		var stale checkoutView
		s.ok(t, a, "billing.checkout.create", map[string]any{"clients_id": client.ID, "lines": []map[string]any{{"price": flatPrice.ID, "plan": flat.ID}}}, &stale)
		s.ok(t, a, "clients.update", map[string]any{"id": client.ID, "digital_tax_rate": "20"}, nil)
		r = s.rpc(t, a, "billing.checkout.confirm", map[string]any{"id": stale.ID})
		if r.Err == nil || !strings.Contains(string(r.Err.Data), "quote_changed") {
			t.Errorf("stale quote: %+v %s", r.Err, r.Result)
		}
		var subs []idOnly
		s.ok(t, a, "billing.clients.subscriptions", map[string]any{"clients_id": client.ID}, &subs)
		if len(subs) != 1 {
			t.Errorf("the refused checkout left %d subscriptions", len(subs))
		}
		r = s.rpc(t, a, "billing.checkout.create", map[string]any{"clients_id": client.ID, "lines": []map[string]any{{"price": monthly.ID}}})
		if r.Err == nil || r.Err.field("lines[0].plan") == "" {
			t.Errorf("a recurring price without a plan: %+v", r.Err)
		}

		s.ok(t, a, "billing.subscriptions.create", map[string]any{"clients_id": client.ID, "plan": flat.ID}, nil)
		var limits struct {
			Features []string `json:"features"`
			Limits   []struct {
				Code  string `json:"code"`
				Limit int64  `json:"limit"`
			} `json:"limits"`
			UserCount int64 `json:"user_count"`
		}
		s.ok(t, a, "clients.limits", map[string]any{"id": client.ID}, &limits)
		if strings.Join(limits.Features, ",") != "api,reports,sso" || len(limits.Limits) != 2 || limits.Limits[0].Code != "api" ||
			limits.Limits[0].Limit != 3*100+50 || limits.Limits[1].Limit != 5 || limits.UserCount != 3*2+1 {
			t.Errorf("limits: %+v", limits)
		}

		advance(t, s, a, jul10) // the voucher was used by the checkout's invoice
		var last invoiceView
		for _, inv := range clientInvoices(t, s, a, client.ID) {
			if inv.SubscriptionsID != nil && *inv.SubscriptionsID == done.Subscriptions[0] && inv.Kind == "cycle" {
				last = inv
			}
		}
		wantLine(t, last, 0, "subscription", 3, 2000, 6000, "20", jul10, time.Date(2095, 8, 10, 0, 0, 0, 0, time.UTC))
		if len(last.Lines) != 1 || last.Total != 7200 {
			t.Errorf("next cycle invoice: %+v", last)
		}
	})
}

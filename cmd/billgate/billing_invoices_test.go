package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
)

// TestManualInvoices: a draft's totals (prices including tax, a discount,
// tax from the unrounded lines), finalize (number, ledger), void (reversal),
// delete (drafts only), and the refusals of the invoice state machine.
func TestManualInvoices(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		var c clientView
		s.ok(t, a, "clients.create", map[string]any{"name": uniq("manual "), "currency": "EUR", "standard_tax_rate": "7",
			"digital_tax_rate": "19"}, &c)
		var inv invoiceView
		s.ok(t, a, "billing.invoices.create", map[string]any{"clients_id": c.ID, "lines": []map[string]any{
			{"description": "e-book", "unit_amount": 1000, "tax_type": "digital", "including_tax": true},
			{"description": "e-book, again", "unit_amount": 1000, "tax_type": "digital", "including_tax": true},
			{"description": "consulting", "unit_amount": 12345, "quantity": 3},
			{"description": "discount", "unit_amount": -2000},
		}}, &inv)
		net := mul(1000, frac(100, 119)) // 840.336… each
		wantTax := halfEven(new(big.Rat).Add(mul(2, net, frac(19, 100)), mul(12345*3-2000, frac(7, 100))))
		amounts := []int64{halfEven(net), halfEven(net), 37035, -2000}
		var sum int64
		for i, want := range amounts {
			if inv.Lines[i].Amount != want {
				t.Errorf("line %d: %d, want %d", i+1, inv.Lines[i].Amount, want)
			}
			sum += want
		}
		// 840 + 840 + 37035 − 2000; tax 2 × 159.66 + 2452.45 = 2771.78 → 2772
		if inv.Status != "draft" || inv.Number != nil || inv.Subtotal != sum || inv.Tax != wantTax || wantTax != 2772 || inv.Total != sum+wantTax {
			t.Fatalf("draft: %+v (want subtotal %d tax %d)", inv, sum, wantTax)
		}
		s.ok(t, a, "billing.invoices.finalize", map[string]any{"id": inv.ID}, &inv)
		if inv.Status != "finalized" || inv.Number == nil || *inv.Number != 1 || inv.TransactionsID == nil {
			t.Fatalf("finalized: %+v", inv)
		}
		s.ok(t, a, "clients.get", map[string]any{"id": c.ID}, &c)
		if c.Balance != -inv.Total {
			t.Errorf("balance %d after finalizing %d", c.Balance, inv.Total)
		}
		wantCode(t, s.rpc(t, a, "billing.invoices.finalize", map[string]any{"id": inv.ID}), "unprocessable", "finalizing twice")
		wantCode(t, s.rpc(t, a, "billing.invoices.delete", map[string]any{"id": inv.ID}), "unprocessable", "deleting a finalized invoice")
		s.ok(t, a, "billing.invoices.void", map[string]any{"id": inv.ID}, &inv)
		s.ok(t, a, "clients.get", map[string]any{"id": c.ID}, &c)
		if inv.Status != "void" || c.Balance != 0 {
			t.Errorf("void: %+v, balance %d", inv, c.Balance)
		}
		wantCode(t, s.rpc(t, a, "billing.invoices.void", map[string]any{"id": inv.ID}), "unprocessable", "voiding twice")
		// A draft is deleted and does not use a number; the next finalized one is 2.
		var draft, next invoiceView
		s.ok(t, a, "billing.invoices.create", map[string]any{"clients_id": c.ID, "lines": []map[string]any{{"description": "x", "unit_amount": 1}}}, &draft)
		wantCode(t, s.rpc(t, a, "billing.invoices.void", map[string]any{"id": draft.ID}), "unprocessable", "voiding a draft")
		s.ok(t, a, "billing.invoices.delete", map[string]any{"id": draft.ID}, nil)
		wantNotFound(t, s.rpc(t, a, "billing.invoices.get", map[string]any{"id": draft.ID}), "deleted draft")
		s.ok(t, a, "billing.invoices.create", map[string]any{"clients_id": c.ID, "lines": []map[string]any{{"description": "y", "unit_amount": 2}}}, &next)
		s.ok(t, a, "billing.invoices.finalize", map[string]any{"id": next.ID}, &next)
		if *next.Number != 2 {
			t.Errorf("next number %d, want 2", *next.Number)
		}
		for _, bad := range []map[string]any{
			{"clients_id": c.ID, "lines": []map[string]any{}},
			{"clients_id": c.ID, "lines": []map[string]any{{"description": "", "unit_amount": 1}}},
			{"clients_id": c.ID, "lines": []map[string]any{{"description": "x", "unit_amount": 1, "quantity": 0}}},
			{"clients_id": c.ID, "lines": []map[string]any{{"description": "x", "unit_amount": 1, "tax_type": "food"}}},
		} {
			wantCode(t, s.rpc(t, a, "billing.invoices.create", bad), "invalid_params", "bad lines")
		}
	})
}

// TestBillingValidation: refusals of the catalog, subscriptions, tax
// settings and the test clock.
func TestBillingValidation(t *testing.T) {
	s := startServer(t, "sqlite://"+filepath.Join(t.TempDir(), "v.db"), nil)
	a := keyAuth(adminKey)
	cat := makeCatalog(t, s, a, 0, false)
	var plan struct {
		CodeName string `json:"code_name"`
	}
	s.ok(t, a, "billing.plans.get", map[string]any{"id": cat.basic}, &plan)
	var c clientView
	s.ok(t, a, "clients.create", map[string]any{"name": "v", "currency": "EUR", "standard_tax_rate": 19.5}, &c)
	var got struct {
		Standard *string `json:"standard_tax_rate"`
		Digital  *string `json:"digital_tax_rate"`
		Type     string  `json:"type"`
		Billing  string  `json:"billing_type"`
	}
	s.ok(t, a, "clients.get", map[string]any{"id": c.ID}, &got)
	if got.Standard == nil || *got.Standard != "19.5" || got.Digital != nil || got.Type != "individual" || got.Billing != "invoice" {
		t.Errorf("tax settings: %+v", got)
	}
	s.ok(t, a, "clients.update", map[string]any{"id": c.ID, "standard_tax_rate": "", "digital_tax_rate": "7.25"}, &got)
	if got.Standard != nil || got.Digital == nil || *got.Digital != "7.25" {
		t.Errorf("after update: %+v", got)
	}
	for _, bad := range []map[string]any{
		{"name": "x", "standard_tax_rate": "-1"}, {"name": "x", "standard_tax_rate": "101"}, {"name": "x", "digital_tax_rate": "1e2"},
		{"name": "x", "timezone": "Mars/Olympus"}, {"name": "x", "billing_type": "cash"}, {"name": "x", "invoice_format": "doc"},
	} {
		wantCode(t, s.rpc(t, a, "clients.create", bad), "invalid_params", "bad client settings")
	}
	wantCode(t, s.rpc(t, a, "clients.update", map[string]any{"id": c.ID, "type": ""}), "invalid_params", "empty type")
	for _, bad := range []map[string]any{
		{"products_id": cat.product, "amount": 1, "currency": "EUR", "recurring": true},
		{"products_id": cat.product, "amount": 1, "currency": "EUR", "recurring": false, "schedule": "month"},
		{"products_id": cat.product, "amount": -1, "currency": "EUR", "recurring": false},
	} {
		wantCode(t, s.rpc(t, a, "billing.prices.create", bad), "invalid_params", "bad price")
	}
	var other idOnly
	s.ok(t, a, "billing.products.create", map[string]any{"name": "other"}, &other)
	wantCode(t, s.rpc(t, a, "billing.plans.create", map[string]any{"products_id": other.ID, "code_name": "o", "name": "o",
		"prices": []int64{cat.basicPrice}}), "invalid_params", "plan at another product's price")
	wantCode(t, s.rpc(t, a, "billing.plans.create", map[string]any{"products_id": cat.product, "code_name": plan.CodeName, "name": "o",
		"prices": []int64{cat.basicPrice}}), "conflict", "duplicate code name")
	wantCode(t, s.rpc(t, a, "billing.plans.create", map[string]any{"products_id": cat.product, "code_name": "9lives", "name": "o",
		"prices": []int64{cat.basicPrice}}), "invalid_params", "code name starting with a digit")
	for _, bad := range []map[string]any{
		{"clients_id": c.ID, "plan": plan.CodeName, "price": cat.proPrice},
		{"clients_id": c.ID, "plan": plan.CodeName, "seats": 2},
		{"clients_id": c.ID, "plan": plan.CodeName, "deny_trial": true, "trial_days": 3},
	} {
		wantCode(t, s.rpc(t, a, "billing.subscriptions.create", bad), "invalid_params", "bad subscription")
	}
	wantNotFound(t, s.rpc(t, a, "billing.subscriptions.create", map[string]any{"clients_id": c.ID, "plan": "nosuchplan"}), "unknown code name")
	var usd clientView
	s.ok(t, a, "clients.create", map[string]any{"name": "usd", "currency": "USD"}, &usd)
	wantCode(t, s.rpc(t, a, "billing.subscriptions.create", map[string]any{"clients_id": usd.ID, "plan": cat.basic}), "invalid_params", "no price in the client's currency")
	var subscriber clientView
	s.ok(t, a, "clients.create", map[string]any{"name": "subscriber", "currency": "EUR"}, &subscriber)
	s.ok(t, a, "billing.subscriptions.create", map[string]any{"clients_id": subscriber.ID, "plan": cat.basic, "trial_days": 30}, nil)
	wantCode(t, s.rpc(t, a, "clients.delete", map[string]any{"id": subscriber.ID}), "unprocessable", "deleting a client with a subscription")
	s.ok(t, a, "clients.update", map[string]any{"id": c.ID, "status": "suspended"}, nil)
	r := s.rpc(t, a, "billing.subscriptions.create", map[string]any{"clients_id": c.ID, "plan": plan.CodeName})
	wantCode(t, r, "unprocessable", "suspended client")
	test := keyAuth(testKeyFor(t, s))
	advance(t, s, test, time.Date(2095, 1, 1, 0, 0, 0, 0, time.UTC))
	wantCode(t, s.rpc(t, test, "billing.test_clock.advance", map[string]any{"to": "2094-12-31T23:59:59Z"}), "invalid_params", "clock going back")
	wantCode(t, s.rpc(t, test, "billing.test_clock.advance", map[string]any{"to": "2096-01-01T00:00:00Z", "by": "1h"}), "invalid_params", "to and by")
	wantCode(t, s.rpc(t, test, "billing.test_clock.advance", map[string]any{"by": "-1h"}), "invalid_params", "negative duration")
	var adv advanceView
	s.ok(t, test, "billing.test_clock.advance", map[string]any{"by": "14d"}, &adv)
	if !adv.Clock.Now.Equal(time.Date(2095, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("advanced by 14d to %s", adv.Clock.Now)
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

func mustMarshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unmarshalInto copies a method's result into out through JSON, as a client sees it.
func unmarshalInto(t *testing.T, res, out any) {
	t.Helper()
	if err := json.Unmarshal(mustMarshal(t, res), out); err != nil {
		t.Fatal(err)
	}
}

// TestLiveBillingUsesTheInjectedClock: in live mode billing runs at the
// service's clock; RunDueBilling (the server's worker) issues what fell due;
// MarkInvoicePaid (for issue 7's payments) moves a finalized invoice to paid.
func TestLiveBillingUsesTheInjectedClock(t *testing.T) {
	ctx := context.Background()
	cfg, err := loadConfig("", func(k string) string {
		return map[string]string{"BILLGATE_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "clock.db")}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	app, err := open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		t.Fatal(err)
	}
	defer app.store.Close()
	clock := &fakeClock{now: time.Date(2097, 1, 31, 8, 0, 0, 0, time.UTC)}
	svc := service.New(service.Config{Name: "billgate"}, app.store, clock, nil)
	call := func(method string, args map[string]any, out any) {
		t.Helper()
		raw := service.Args{}
		for k, v := range args {
			raw[k] = mustMarshal(t, v)
		}
		res, err := svc.Invoke(ctx, service.NewSystemSession(), method, raw)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if out != nil {
			unmarshalInto(t, res, out)
		}
	}
	var prod, price, plan, client idOnly
	call("billing.products.create", map[string]any{"name": "live"}, &prod)
	call("billing.prices.create", map[string]any{"products_id": prod.ID, "amount": 500, "currency": "USD", "recurring": true, "schedule": "month"}, &price)
	call("billing.plans.create", map[string]any{"products_id": prod.ID, "code_name": "live", "name": "Live", "prices": []int64{price.ID}}, &plan)
	call("clients.create", map[string]any{"name": "live client", "currency": "USD"}, &client)
	var sub subView
	call("billing.subscriptions.create", map[string]any{"clients_id": client.ID, "plan": "live"}, &sub)
	if !sub.CurrentPeriodStart.Equal(clock.Now()) || !sub.CurrentPeriodEnd.Equal(time.Date(2097, 2, 28, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("live subscription at the injected clock: %+v", sub)
	}
	clock.set(time.Date(2097, 2, 28, 8, 0, 0, 0, time.UTC))
	result, err := svc.RunDueBilling(ctx)
	if err != nil || result.Mode != "live" || len(result.Invoices) != 1 {
		t.Fatalf("worker run: %+v %v", result, err)
	}
	var inv1 invoiceView
	call("billing.invoices.get", map[string]any{"id": result.Invoices[0]}, &inv1)
	if !inv1.PeriodStart.Equal(clock.Now()) || !inv1.PeriodEnd.Equal(time.Date(2097, 3, 31, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("renewal at the injected clock: %+v (Jan 31 → Feb 28 → Mar 31)", inv1)
	}
	if again, _ := svc.RunDueBilling(ctx); len(again.Invoices) != 0 {
		t.Errorf("a second run billed again: %+v", again)
	}
	sys := service.WithPrincipal(ctx, &service.Principal{Login: "payments", Live: true, Location: time.UTC})
	paidAt := clock.Now().Add(time.Hour)
	inv, err := svc.MarkInvoicePaid(sys, result.Invoices[0], paidAt)
	if err != nil || inv.Status != service.InvoicePaid || !inv.PaidAt.Equal(paidAt) {
		t.Fatalf("mark paid: %+v %v", inv, err)
	}
	if _, err := svc.MarkInvoicePaid(sys, inv.ID, paidAt); service.CodeOf(err) != service.CodeUnprocessable {
		t.Errorf("paying twice: %v", err)
	}
	if _, err := svc.Invoke(ctx, service.NewSystemSession(), "billing.invoices.void", service.Args{"id": mustMarshal(t, inv.ID)}); service.CodeOf(err) != service.CodeUnprocessable {
		t.Errorf("voiding a paid invoice: %v", err)
	}
	if _, err := svc.Invoke(ctx, service.NewSystemSession(), "billing.test_clock.get", service.Args{}); service.CodeOf(err) != service.CodeForbidden {
		t.Errorf("live caller reads the test clock: %v", err)
	}
}

package main

import (
	"sync"
	"testing"
)

// The parity, reseller-isolation and mode-isolation rows of the billing
// lifecycle (issue 6: catalog, subscriptions, invoices, runs, test clock),
// merged into the registry-wide tables.
func init() {
	for _, m := range []struct {
		dst map[string]isoCase
		src map[string]isoCase
	}{{isolationCases, lifecycleIsolation}, {modeCases, lifecycleMode}} {
		for k, v := range m.src {
			m.dst[k] = v
		}
	}
	for k, v := range lifecycleParity {
		parityCases[k] = v
	}
}

// billingFixture is a catalog, a subscription and its first invoice for
// reseller A (live and test mode) and reseller B, and a root product.
type billingFixture struct {
	pA, prA, prA2, plA, plA2, subA, invA int64 // A, live: per-seat plan plA (prices prA, prA2), plan plA2 (prA2)
	pAT, prAT, plAT, subAT, invAT        int64 // A, test mode
	pB, prB, plB, subB, invB             int64 // B, live
	pRoot                                int64 // the root, live
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[*world]*billingFixture{}
)

// bf returns the billing fixture of w, made on first use.
func bf(t *testing.T, w *world) *billingFixture {
	t.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixtures[w]; ok {
		return f
	}
	f := &billingFixture{}
	s := w.s
	mk := func(key, method string, params map[string]any) int64 {
		t.Helper()
		var v idOnly
		s.ok(t, keyAuth(key), method, params, &v)
		return v.ID
	}
	catalog := func(key string, client int64) (product, price, price2, plan, plan2, sub, inv int64) {
		product = mk(key, "billing.products.create", map[string]any{"name": uniq("product "), "tax_type": "standard"})
		price = mk(key, "billing.prices.create", map[string]any{"products_id": product, "amount": 1000, "currency": "USD", "recurring": true, "schedule": "month"})
		price2 = mk(key, "billing.prices.create", map[string]any{"products_id": product, "amount": 2500, "currency": "USD", "recurring": true, "schedule": "month"})
		plan = mk(key, "billing.plans.create", map[string]any{"products_id": product, "code_name": uniq("seats"), "name": "Seats",
			"per_seat": true, "prices": []int64{price, price2}, "features": []string{"api"}, "limits": map[string]any{"api": 100}})
		plan2 = mk(key, "billing.plans.create", map[string]any{"products_id": product, "code_name": uniq("flat"), "name": "Flat", "prices": []int64{price2}})
		sub = mk(key, "billing.subscriptions.create", map[string]any{"clients_id": client, "plan": plan, "price": price, "seats": 2})
		var invs []idOnly
		s.ok(t, keyAuth(key), "billing.clients.invoices", map[string]any{"clients_id": client, "order": "-id", "limit": 1}, &invs)
		if len(invs) != 1 {
			t.Fatalf("subscription %d made no invoice", sub)
		}
		return product, price, price2, plan, plan2, sub, invs[0].ID
	}
	f.pA, f.prA, f.prA2, f.plA, f.plA2, f.subA, f.invA = catalog(w.keyA, w.cA)
	f.pAT, f.prAT, _, f.plAT, _, f.subAT, f.invAT = catalog(w.keyATest, w.cATest)
	f.pB, f.prB, _, f.plB, _, f.subB, f.invB = catalog(w.keyB, w.cB)
	f.pRoot = mk(w.admin, "billing.products.create", map[string]any{"name": uniq("root product ")})
	fixtures[w] = f
	return f
}

// freshSub starts a new subscription of A's client on the per-seat plan (a
// trial when trialDays > 0).
func freshSub(t *testing.T, w *world, seats, trialDays int) int64 {
	t.Helper()
	f := bf(t, w)
	var v idOnly
	w.s.ok(t, keyAuth(w.keyA), "billing.subscriptions.create", map[string]any{"clients_id": w.cA, "plan": f.plA,
		"price": f.prA, "seats": seats, "trial_days": trialDays}, &v)
	return v.ID
}

// freshInvoice makes a draft invoice for A's client, finalized when asked.
func freshInvoice(t *testing.T, w *world, finalize bool) int64 {
	t.Helper()
	var v idOnly
	w.s.ok(t, keyAuth(w.keyA), "billing.invoices.create", map[string]any{"clients_id": w.cA,
		"lines": []map[string]any{{"description": "setup", "unit_amount": 5000}}}, &v)
	if finalize {
		w.s.ok(t, keyAuth(w.keyA), "billing.invoices.finalize", map[string]any{"id": v.ID}, nil)
	}
	return v.ID
}

// subStamps are the fields of a subscription that depend on when it was made.
var subStamps = ignoring("id", "billing_anchor", "current_period_start", "current_period_end", "trial_ends_at", "canceled_at", "cancel_at")

// invoiceStamps are the fields of an invoice that depend on when and in which order it was made.
var invoiceStamps = ignoring("id", "number", "issued_at", "due_at", "finalized_at", "voided_at", "transactions_id", "void_transactions_id")

func keyA(w *world) auth { return keyAuth(w.keyA) }

var lifecycleParity = map[string]parityCase{
	"billing.products.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf(t, w)
		return keyA(w), map[string]any{"order": "-id", "q": "product*"}, nil
	},
	"billing.products.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"tax_type": "standard"}, nil
	},
	"billing.products.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf(t, w).pA}, nil
	},
	"billing.products.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"name": "Parity product", "tax_type": "digital", "external_reference": "prod_1"}, ignoring("id")
	},
	"billing.products.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf(t, w).pA, "external_reference": "ext-9"}, ignoring()
	},
	"billing.products.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		var v idOnly
		w.s.ok(t, keyA(w), "billing.products.create", map[string]any{"name": "doomed"}, &v)
		return keyA(w), map[string]any{"id": v.ID}, []string{"id"}
	},
	"billing.prices.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"products_id": bf(t, w).pA, "order": "-amount"}, nil
	},
	"billing.prices.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		f := bf(t, w)
		return keyA(w), map[string]any{"products_id": f.pA, "id": f.prA}, nil
	},
	"billing.prices.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"products_id": bf(t, w).pA, "amount": 9900, "currency": "usd", "recurring": true,
			"schedule": "year", "including_tax": true}, ignoring("id")
	},
	"billing.prices.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		f := bf(t, w)
		return keyA(w), map[string]any{"products_id": f.pA, "id": f.prA2, "external_reference": "price_2"}, ignoring()
	},
	"billing.prices.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		f := bf(t, w)
		var v idOnly
		w.s.ok(t, keyA(w), "billing.prices.create", map[string]any{"products_id": f.pA, "amount": 1, "currency": "USD", "recurring": false}, &v)
		return keyA(w), map[string]any{"products_id": f.pA, "id": v.ID}, []string{"id"}
	},
	"billing.plans.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"products_id": bf(t, w).pA, "order": "code_name"}, nil
	},
	"billing.plans.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"products_id": bf(t, w).pA}, nil
	},
	"billing.plans.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf(t, w).plA}, nil
	},
	"billing.plans.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		f := bf(t, w)
		return keyA(w), map[string]any{"products_id": f.pA, "code_name": uniq("parity"), "name": "Parity", "prices": []int64{f.prA2, f.prA},
			"free_trial_days": 30, "user_count": 5, "features": []string{"sso"}, "limits": map[string]any{"users": 5}}, ignoring("id", "code_name")
	},
	"billing.plans.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf(t, w).plA2, "name": "Flat rate", "user_count": 3}, ignoring()
	},
	"billing.plans.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		f := bf(t, w)
		var v idOnly
		w.s.ok(t, keyA(w), "billing.plans.create", map[string]any{"products_id": f.pA, "code_name": uniq("gone"), "name": "Gone", "prices": []int64{f.prA}}, &v)
		return keyA(w), map[string]any{"id": v.ID}, []string{"id"}
	},
	"billing.subscriptions.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf(t, w).subA}, nil
	},
	"billing.subscriptions.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"plans_id": bf(t, w).plA2}, nil
	},
	"billing.subscriptions.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf(t, w).subA}, nil
	},
	"billing.subscriptions.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		f := bf(t, w)
		return keyA(w), map[string]any{"clients_id": w.cA, "plan": f.plA, "price": f.prA2, "seats": 4, "metadata": map[string]any{"po": "7"}}, subStamps
	},
	"billing.subscriptions.extend_trial": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshSub(t, w, 1, 10), "price": bf(t, w).prA2}, subStamps
	},
	"billing.subscriptions.add_seats": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshSub(t, w, 1, 0), "seats": 2}, subStamps
	},
	"billing.subscriptions.remove_seats": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshSub(t, w, 3, 0), "seats": 1}, subStamps
	},
	"billing.subscriptions.change_plan": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshSub(t, w, 1, 0), "plan": bf(t, w).plA2, "when": "next-cycle"}, subStamps
	},
	"billing.subscriptions.change_price": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshSub(t, w, 1, 0), "price": bf(t, w).prA2, "when": "instantly"}, subStamps
	},
	"billing.subscriptions.cancel": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshSub(t, w, 1, 0), "when": "end-of-run", "comment": "parity"}, subStamps
	},
	"billing.clients.subscriptions": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf(t, w)
		return keyA(w), map[string]any{"clients_id": w.cA, "order": "id", "limit": 2}, nil
	},
	"billing.clients.active_subscriptions": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf(t, w)
		return keyA(w), map[string]any{"clients_id": w.cA, "order": "id", "limit": 2}, nil
	},
	"billing.invoices.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf(t, w).invA}, nil
	},
	"billing.invoices.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"subscriptions_id": bf(t, w).subA}, nil
	},
	"billing.invoices.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf(t, w).invA}, nil
	},
	"billing.invoices.pdf": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf(t, w).invA}, []string{"id", "filename"}
	},
	"billing.invoices.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"clients_id": w.cA, "memo": "parity", "lines": []map[string]any{
			{"description": "install", "unit_amount": 12345, "quantity": 2}, {"description": "rebate", "unit_amount": -1000}}}, invoiceStamps
	},
	"billing.invoices.finalize": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshInvoice(t, w, false)}, invoiceStamps
	},
	"billing.invoices.void": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshInvoice(t, w, true)}, invoiceStamps
	},
	"billing.invoices.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshInvoice(t, w, false)}, []string{"id"}
	},
	"billing.clients.invoices": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf(t, w)
		return keyA(w), map[string]any{"clients_id": w.cA, "order": "id", "limit": 1}, nil
	},
	"billing.run": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{}, []string{"now"}
	},
	"billing.test_clock.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.adminTest), map[string]any{}, nil
	},
	"billing.test_clock.advance": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf(t, w)
		return keyAuth(w.adminTest), map[string]any{"by": "0h"}, nil
	},
}

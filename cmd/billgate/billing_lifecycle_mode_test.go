package main

import (
	"testing"
)

// liveOnly is a mode check: each call, made with a test key on A's live
// objects, must answer not_found.
func liveOnly(calls ...func(f *billingFixture, w *world) (string, map[string]any)) isoCase {
	return nf(calls...)
}

// lifecycleMode: a test key never reaches live catalog, subscriptions or
// invoices; what it makes is test-mode; the test clock is its own.
var lifecycleMode = map[string]isoCase{
	"billing.products.search": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		ids := idsOf(t, call("billing.products.search", map[string]any{"limit": 1000}))
		if ids[f.pA] || !ids[f.pAT] {
			t.Errorf("test key sees products %v (live %d, test %d)", ids, f.pA, f.pAT)
		}
	},
	"billing.products.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("billing.products.count", map[string]any{"id": bf(t, w).pA})); n != 0 {
			t.Error("test key counts a live product")
		}
	},
	"billing.products.get": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.products.get", map[string]any{"id": f.pA}
	}),
	"billing.products.create": func(t *testing.T, w *world, call caller) {
		var p struct {
			LiveMode bool `json:"live_mode"`
		}
		r := call("billing.products.create", map[string]any{"name": uniq("made in test")})
		if r.Err != nil || decode(t, r, &p) != nil || p.LiveMode {
			t.Errorf("product made with a test key: %+v %s", r.Err, r.Result)
		}
	},
	"billing.products.update": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.products.update", map[string]any{"id": f.pA, "name": "x"}
	}),
	"billing.products.delete": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.products.delete", map[string]any{"id": f.pA}
	}),
	"billing.prices.search": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.search", map[string]any{"products_id": f.pA}
	}),
	"billing.prices.get": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.get", map[string]any{"products_id": f.pA, "id": f.prA}
	}),
	"billing.prices.create": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.create", map[string]any{"products_id": f.pA, "amount": 1, "currency": "USD", "recurring": false}
	}),
	"billing.prices.update": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.update", map[string]any{"products_id": f.pA, "id": f.prA, "public": false}
	}),
	"billing.prices.delete": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.delete", map[string]any{"products_id": f.pA, "id": f.prA}
	}),
	"billing.plans.search": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		ids := idsOf(t, call("billing.plans.search", map[string]any{"limit": 1000}))
		if ids[f.plA] || !ids[f.plAT] {
			t.Errorf("test key sees plans %v", ids)
		}
	},
	"billing.plans.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("billing.plans.count", map[string]any{"id": bf(t, w).plA})); n != 0 {
			t.Error("test key counts a live plan")
		}
	},
	"billing.plans.get": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.plans.get", map[string]any{"id": f.plA}
	}),
	"billing.plans.create": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.plans.create", map[string]any{"products_id": f.pA, "code_name": "x", "name": "x", "prices": []int64{f.prA}}
	}),
	"billing.plans.update": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.plans.update", map[string]any{"id": f.plA, "name": "x"}
	}),
	"billing.plans.delete": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.plans.delete", map[string]any{"id": f.plA}
	}),
	"billing.subscriptions.search": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		ids := idsOf(t, call("billing.subscriptions.search", map[string]any{"limit": 1000}))
		if ids[f.subA] || !ids[f.subAT] {
			t.Errorf("test key sees subscriptions %v", ids)
		}
	},
	"billing.subscriptions.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("billing.subscriptions.count", map[string]any{"clients_id": w.cA})); n != 0 {
			t.Error("test key counts live subscriptions")
		}
	},
	"billing.subscriptions.get": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.get", map[string]any{"id": f.subA}
	}),
	"billing.subscriptions.create": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.create", map[string]any{"clients_id": w.cA, "plan": f.plAT}
	}, func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.create", map[string]any{"clients_id": w.cATest, "plan": f.plA}
	}),
	"billing.subscriptions.extend_trial": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.extend_trial", map[string]any{"id": f.subA, "price": f.prA}
	}),
	"billing.subscriptions.add_seats": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.add_seats", map[string]any{"id": f.subA, "seats": 1}
	}),
	"billing.subscriptions.remove_seats": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.remove_seats", map[string]any{"id": f.subA, "seats": 1}
	}),
	"billing.subscriptions.change_plan": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.change_plan", map[string]any{"id": f.subA, "plan": f.plA2, "when": "instantly"}
	}),
	"billing.subscriptions.change_price": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.change_price", map[string]any{"id": f.subA, "price": f.prA2, "when": "instantly"}
	}),
	"billing.subscriptions.cancel": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.cancel", map[string]any{"id": f.subA, "when": "instantly"}
	}),
	"billing.clients.subscriptions": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.clients.subscriptions", map[string]any{"clients_id": w.cA}
	}),
	"billing.clients.active_subscriptions": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.clients.active_subscriptions", map[string]any{"clients_id": w.cA}
	}),
	"billing.invoices.search": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		ids := idsOf(t, call("billing.invoices.search", map[string]any{"limit": 1000}))
		if ids[f.invA] || !ids[f.invAT] {
			t.Errorf("test key sees invoices %v", ids)
		}
	},
	"billing.invoices.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("billing.invoices.count", map[string]any{"clients_id": w.cA})); n != 0 {
			t.Error("test key counts live invoices")
		}
	},
	"billing.invoices.get": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.get", map[string]any{"id": f.invA}
	}),
	"billing.invoices.pdf": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.pdf", map[string]any{"id": f.invA}
	}),
	"billing.invoices.create": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.create", map[string]any{"clients_id": w.cA, "lines": []map[string]any{{"description": "x", "unit_amount": 1}}}
	}),
	"billing.invoices.finalize": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.finalize", map[string]any{"id": f.invA}
	}),
	"billing.invoices.void": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.void", map[string]any{"id": f.invA}
	}),
	"billing.invoices.delete": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.delete", map[string]any{"id": f.invA}
	}),
	"billing.clients.invoices": liveOnly(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.clients.invoices", map[string]any{"clients_id": w.cA}
	}),
	"billing.run": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		var r runView
		res := call("billing.run", map[string]any{})
		if res.Err != nil || decode(t, res, &r) != nil || r.Mode != "test" {
			t.Fatalf("billing.run with a test key: %+v %s", res.Err, res.Result)
		}
		for _, id := range r.Subscriptions {
			if id == f.subA {
				t.Error("a test run worked on a live subscription")
			}
		}
	},
	"billing.test_clock.get": func(t *testing.T, w *world, call caller) {
		var c struct {
			Mode string `json:"mode"`
		}
		r := call("billing.test_clock.get", map[string]any{})
		if r.Err != nil || decode(t, r, &c) != nil || c.Mode != "test" {
			t.Errorf("test clock: %+v %s", r.Err, r.Result)
		}
	},
	"billing.test_clock.advance": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		var a advanceView
		r := call("billing.test_clock.advance", map[string]any{"by": "0h"})
		if r.Err != nil || decode(t, r, &a) != nil {
			t.Fatalf("advance: %+v %s", r.Err, r.Result)
		}
		for _, id := range a.Run.Invoices {
			if id == f.invA {
				t.Error("the test clock billed live")
			}
		}
	},
}

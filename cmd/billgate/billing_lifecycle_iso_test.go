package main

import (
	"testing"
)

// nf is an isolation check: every call must answer not_found.
func nf(calls ...func(f *billingFixture, w *world) (string, map[string]any)) isoCase {
	return func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		for _, c := range calls {
			m, p := c(f, w)
			wantNotFound(t, call(m, p), m)
		}
	}
}

// lifecycleIsolation: a principal limited to reseller A never reaches B's (or
// the root's) catalog, subscriptions or invoices.
var lifecycleIsolation = map[string]isoCase{
	"billing.products.search": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		ids := idsOf(t, call("billing.products.search", map[string]any{"limit": 1000}))
		if ids[f.pB] || ids[f.pRoot] || !ids[f.pA] {
			t.Errorf("products seen by A: %v", ids)
		}
	},
	"billing.products.count": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		if n := countOf(t, call("billing.products.count", map[string]any{"id": []int64{f.pB, f.pRoot}})); n != 0 {
			t.Errorf("A counts %d foreign products", n)
		}
	},
	"billing.products.get": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.products.get", map[string]any{"id": f.pB}
	}),
	"billing.products.create": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.products.create", map[string]any{"name": "x", "resellers_id": w.B}
	}),
	"billing.products.update": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.products.update", map[string]any{"id": f.pB, "name": "mine"}
	}),
	"billing.products.delete": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.products.delete", map[string]any{"id": f.pRoot}
	}),
	"billing.prices.search": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.search", map[string]any{"products_id": f.pB}
	}),
	"billing.prices.get": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.get", map[string]any{"products_id": f.pB, "id": f.prB}
	}, func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.get", map[string]any{"products_id": f.pA, "id": f.prB}
	}),
	"billing.prices.create": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.create", map[string]any{"products_id": f.pB, "amount": 1, "currency": "USD", "recurring": false}
	}),
	"billing.prices.update": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.update", map[string]any{"products_id": f.pB, "id": f.prB, "public": false}
	}),
	"billing.prices.delete": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.prices.delete", map[string]any{"products_id": f.pB, "id": f.prB}
	}),
	"billing.plans.search": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		ids := idsOf(t, call("billing.plans.search", map[string]any{"limit": 1000}))
		if ids[f.plB] || !ids[f.plA] {
			t.Errorf("plans seen by A: %v", ids)
		}
	},
	"billing.plans.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("billing.plans.count", map[string]any{"id": bf(t, w).plB})); n != 0 {
			t.Errorf("A counts B's plan")
		}
	},
	"billing.plans.get": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.plans.get", map[string]any{"id": f.plB}
	}),
	"billing.plans.create": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		wantNotFound(t, call("billing.plans.create", map[string]any{"products_id": f.pB, "code_name": "x", "name": "x", "prices": []int64{f.prB}}), "plan of B's product")
		wantCode(t, call("billing.plans.create", map[string]any{"products_id": f.pA, "code_name": "x", "name": "x", "prices": []int64{f.prB}}),
			"invalid_params", "A's plan at B's price")
	},
	"billing.plans.update": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.plans.update", map[string]any{"id": f.plB, "name": "mine"}
	}),
	"billing.plans.delete": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.plans.delete", map[string]any{"id": f.plB}
	}),
	"billing.subscriptions.search": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		ids := idsOf(t, call("billing.subscriptions.search", map[string]any{"limit": 1000}))
		if ids[f.subB] || !ids[f.subA] {
			t.Errorf("subscriptions seen by A: %v", ids)
		}
	},
	"billing.subscriptions.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("billing.subscriptions.count", map[string]any{"clients_id": w.cB})); n != 0 {
			t.Errorf("A counts %d of B's subscriptions", n)
		}
	},
	"billing.subscriptions.get": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.get", map[string]any{"id": f.subB}
	}),
	"billing.subscriptions.create": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.create", map[string]any{"clients_id": w.cB, "plan": f.plA}
	}, func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.create", map[string]any{"clients_id": w.cA, "plan": f.plB}
	}),
	"billing.subscriptions.extend_trial": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.extend_trial", map[string]any{"id": f.subB, "price": f.prB}
	}),
	"billing.subscriptions.add_seats": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.add_seats", map[string]any{"id": f.subB, "seats": 1}
	}),
	"billing.subscriptions.remove_seats": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.remove_seats", map[string]any{"id": f.subB, "seats": 1}
	}),
	"billing.subscriptions.change_plan": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.change_plan", map[string]any{"id": f.subB, "plan": f.plA, "when": "instantly"}
	}, func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.change_plan", map[string]any{"id": f.subA, "plan": f.plB, "when": "next-cycle"}
	}),
	"billing.subscriptions.change_price": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.change_price", map[string]any{"id": f.subB, "price": f.prA, "when": "instantly"}
	}, func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.change_price", map[string]any{"id": f.subA, "price": f.prB, "when": "instantly"}
	}),
	"billing.subscriptions.cancel": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.subscriptions.cancel", map[string]any{"id": f.subB, "when": "instantly"}
	}),
	"billing.clients.subscriptions": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.clients.subscriptions", map[string]any{"clients_id": w.cB}
	}),
	"billing.clients.active_subscriptions": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.clients.active_subscriptions", map[string]any{"clients_id": w.cRoot}
	}),
	"billing.invoices.search": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		ids := idsOf(t, call("billing.invoices.search", map[string]any{"limit": 1000}))
		if ids[f.invB] || !ids[f.invA] {
			t.Errorf("invoices seen by A: %v", ids)
		}
	},
	"billing.invoices.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("billing.invoices.count", map[string]any{"id": bf(t, w).invB})); n != 0 {
			t.Errorf("A counts B's invoice")
		}
	},
	"billing.invoices.get": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.get", map[string]any{"id": f.invB}
	}),
	"billing.invoices.pdf": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.pdf", map[string]any{"id": f.invB}
	}),
	"billing.invoices.create": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.create", map[string]any{"clients_id": w.cB, "lines": []map[string]any{{"description": "x", "unit_amount": 1}}}
	}),
	"billing.invoices.finalize": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.finalize", map[string]any{"id": f.invB}
	}),
	"billing.invoices.void": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.void", map[string]any{"id": f.invB}
	}),
	"billing.invoices.delete": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.invoices.delete", map[string]any{"id": f.invB}
	}),
	"billing.clients.invoices": nf(func(f *billingFixture, w *world) (string, map[string]any) {
		return "billing.clients.invoices", map[string]any{"clients_id": w.cB}
	}),
	"billing.run": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		var r runView
		res := call("billing.run", map[string]any{})
		if res.Err != nil || decode(t, res, &r) != nil || r.Mode != "live" {
			t.Fatalf("billing.run: %+v %s", res.Err, res.Result)
		}
		for _, id := range r.Subscriptions {
			if id == f.subB {
				t.Errorf("A's run worked on B's subscription")
			}
		}
	},
	// The test clock is test mode's: A's live key and JWT are refused.
	"billing.test_clock.get": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("billing.test_clock.get", map[string]any{}), "forbidden", "live caller reads the test clock")
	},
	"billing.test_clock.advance": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("billing.test_clock.advance", map[string]any{"by": "1h"}), "forbidden", "live caller moves the test clock")
	},
}

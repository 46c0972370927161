package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// stateFixture is a per-seat plan with two monthly prices, another plan, and
// a client, in test mode at a fixed test clock.
type stateFixture struct {
	s                         *server
	a                         auth
	client, plan, other       int64
	price, price2, otherPrice int64
	now                       time.Time
}

func newStateFixture(t *testing.T, s *server) *stateFixture {
	t.Helper()
	f := &stateFixture{s: s, a: keyAuth(testKeyFor(t, s)), now: time.Date(2090, 3, 10, 12, 0, 0, 0, time.UTC)}
	advance(t, s, f.a, f.now)
	cat := makeCatalog(t, s, f.a, 0, true)
	var v idOnly
	s.ok(t, f.a, "billing.plans.create", map[string]any{"products_id": cat.product, "code_name": uniq("both"), "name": "Both",
		"per_seat": true, "prices": []int64{cat.basicPrice, cat.proPrice}}, &v)
	f.plan, f.price, f.price2, f.other, f.otherPrice = v.ID, cat.basicPrice, cat.proPrice, cat.pro, cat.proPrice
	var c clientView
	s.ok(t, f.a, "clients.create", map[string]any{"name": uniq("states "), "currency": "EUR"}, &c)
	f.client = c.ID
	return f
}

// subIn returns a new subscription with 2 seats in state.
func (f *stateFixture) subIn(t *testing.T, state string) int64 {
	t.Helper()
	trial := 0
	if state == "trialing" {
		trial = 7
	}
	var sub subView
	f.s.ok(t, f.a, "billing.subscriptions.create", map[string]any{"clients_id": f.client, "plan": f.plan, "price": f.price,
		"seats": 2, "trial_days": trial}, &sub)
	switch state {
	case "pending_cancel":
		f.s.ok(t, f.a, "billing.subscriptions.cancel", map[string]any{"id": sub.ID}, &sub)
	case "cancelled":
		f.s.ok(t, f.a, "billing.subscriptions.cancel", map[string]any{"id": sub.ID, "when": "instantly"}, &sub)
	}
	if sub.Status != state {
		t.Fatalf("set-up: subscription %d is %s, want %s", sub.ID, sub.Status, state)
	}
	return sub.ID
}

// TestSubscriptionStateMachine tries every API event on a subscription in
// every state, over JSON-RPC and REST: allowed ones reach the expected state,
// the others are refused with unprocessable (-32003 / HTTP 422) naming the
// state, and leave the subscription unchanged.
func TestSubscriptionStateMachine(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		f := newStateFixture(t, s)
		states := []string{"trialing", "active", "pending_cancel", "cancelled"}
		events := []struct {
			method string
			params func(f *stateFixture) map[string]any
			to     map[string]string // from → to; a state not listed refuses the event
		}{
			{"billing.subscriptions.extend_trial", func(f *stateFixture) map[string]any { return map[string]any{"price": f.price2} },
				map[string]string{"trialing": "active"}},
			{"billing.subscriptions.add_seats", func(f *stateFixture) map[string]any { return map[string]any{"seats": 1} },
				map[string]string{"trialing": "trialing", "active": "active"}},
			{"billing.subscriptions.remove_seats", func(f *stateFixture) map[string]any { return map[string]any{"seats": 1} },
				map[string]string{"trialing": "trialing", "active": "active"}},
			{"billing.subscriptions.change_plan", func(f *stateFixture) map[string]any {
				return map[string]any{"plan": f.other, "when": "instantly"}
			}, map[string]string{"trialing": "trialing", "active": "active"}},
			{"billing.subscriptions.change_plan", func(f *stateFixture) map[string]any {
				return map[string]any{"plan": f.other, "when": "next-cycle"}
			}, map[string]string{"trialing": "trialing", "active": "active"}},
			{"billing.subscriptions.change_price", func(f *stateFixture) map[string]any {
				return map[string]any{"price": f.price2, "when": "instantly"}
			}, map[string]string{"trialing": "trialing", "active": "active"}},
			{"billing.subscriptions.change_price", func(f *stateFixture) map[string]any {
				return map[string]any{"price": f.price2, "when": "next_cycle"}
			}, map[string]string{"trialing": "trialing", "active": "active"}},
			{"billing.subscriptions.cancel", func(f *stateFixture) map[string]any { return map[string]any{"when": "instantly"} },
				map[string]string{"trialing": "cancelled", "active": "cancelled", "pending_cancel": "cancelled"}},
			{"billing.subscriptions.cancel", func(f *stateFixture) map[string]any { return map[string]any{"when": "end-of-run"} },
				map[string]string{"trialing": "pending_cancel", "active": "pending_cancel"}},
			{"billing.subscriptions.cancel", func(f *stateFixture) map[string]any {
				return map[string]any{"when": "specific-date", "date": f.now.AddDate(0, 0, 3).Format(time.RFC3339)}
			}, map[string]string{"trialing": "pending_cancel", "active": "pending_cancel"}},
		}
		reg := registry(t)
		for _, ev := range events {
			for _, from := range states {
				for _, proto := range []string{"rpc", "rest"} {
					name := fmt.Sprintf("%s(%v)/%s/%s", strings.TrimPrefix(ev.method, "billing.subscriptions."), ev.params(f)["when"], from, proto)
					t.Run(name, func(t *testing.T) {
						id := f.subIn(t, from)
						params := ev.params(f)
						params["id"] = id
						var r reply
						if proto == "rpc" {
							r = s.rpc(t, f.a, ev.method, params)
						} else {
							m, _ := reg.Lookup(ev.method)
							r = s.rest(t, f.a, m, params)
						}
						var after subView
						s.ok(t, f.a, "billing.subscriptions.get", map[string]any{"id": id}, &after)
						to, allowed := ev.to[from]
						switch {
						case allowed && r.Err != nil:
							t.Fatalf("refused: %+v", r.Err)
						case allowed && after.Status != to:
							t.Fatalf("now %s, want %s", after.Status, to)
						case !allowed && (r.Err == nil || r.Err.Code != -32003 || !strings.Contains(r.Err.Message, "is "+from+":") ||
							!strings.Contains(string(r.Err.Data), "invalid_state")):
							t.Fatalf("allowed or wrong error: %+v %s", r.Err, r.Result)
						case !allowed && proto == "rest" && r.Status != 422:
							t.Fatalf("REST status %d, want 422", r.Status)
						case !allowed && (after.Status != from || after.Seats != 2 || after.PricesID != f.price):
							t.Fatalf("a refused event changed the subscription: %+v", after)
						}
					})
				}
			}
		}
	})
}

// TestRunTransitions: the billing run's events — trial end, renewal, and a
// cancellation date — including a cancellation dated after the trial's end.
func TestRunTransitions(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		f := newStateFixture(t, s)
		get := func(id int64) subView {
			var v subView
			s.ok(t, f.a, "billing.subscriptions.get", map[string]any{"id": id}, &v)
			return v
		}
		trial := f.subIn(t, "trialing")
		laterTrial := f.subIn(t, "trialing")
		s.ok(t, f.a, "billing.subscriptions.cancel", map[string]any{"id": laterTrial, "when": "specific-date",
			"date": f.now.AddDate(0, 0, 10).Format(time.RFC3339)}, nil)
		active := f.subIn(t, "active")
		s.ok(t, f.a, "billing.subscriptions.cancel", map[string]any{"id": active, "when": "specific-date",
			"date": f.now.AddDate(0, 2, 5).Format(time.RFC3339)}, nil)

		advance(t, s, f.a, f.now.AddDate(0, 0, 7)) // trial end
		if v := get(trial); v.Status != "active" || !v.BillingAnchor.Equal(f.now.AddDate(0, 0, 7)) {
			t.Errorf("trial end: %+v", v)
		}
		if v := get(laterTrial); v.Status != "pending_cancel" || v.BillingAnchor == nil {
			t.Errorf("trial end before a later cancellation: %+v", v)
		}
		advance(t, s, f.a, f.now.AddDate(0, 0, 10))
		if v := get(laterTrial); v.Status != "cancelled" || !v.EndedAt.Equal(f.now.AddDate(0, 0, 10)) {
			t.Errorf("cancellation date: %+v", v)
		}
		advance(t, s, f.a, f.now.AddDate(0, 2, 0)) // two renewals
		if v := get(active); v.Status != "pending_cancel" || !v.CurrentPeriodStart.Equal(f.now.AddDate(0, 2, 0)) {
			t.Errorf("renewed while pending cancellation: %+v", v)
		}
		advance(t, s, f.a, f.now.AddDate(0, 3, 0))
		if v := get(active); v.Status != "cancelled" || !v.EndedAt.Equal(f.now.AddDate(0, 2, 5)) {
			t.Errorf("cancelled mid-period: %+v", v)
		}
		var invs []invoiceView
		s.ok(t, f.a, "billing.invoices.search", map[string]any{"subscriptions_id": active, "order": "id"}, &invs)
		if len(invs) != 3 { // the start and two renewals; none after the cancellation
			t.Errorf("invoices of the cancelled subscription: %d", len(invs))
		}
	})
}

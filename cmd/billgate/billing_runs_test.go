package main

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestBillingRunIsIdempotent: running billing again, or many times at once,
// never makes a second invoice for a period.
func TestBillingRunIsIdempotent(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		concurrentRuns(t, []*server{s}, 8)
	})
}

// TestBillingRunTwoProcesses: the same with two server processes on one
// PostgreSQL database, running billing at the same time.
func TestBillingRunTwoProcesses(t *testing.T) {
	db := databases(t)["postgres"](t)
	s1 := startServer(t, db, nil)
	s2 := startServer(t, db, nil)
	concurrentRuns(t, []*server{s1, s2}, 16)
}

// concurrentRuns starts weekly subscriptions, then has callers spread over
// servers advance the test clock six weeks (to the same instant) and run
// billing, all at once; each subscription must end with exactly seven
// invoices (the first week and six renewals), one per period, numbered
// without gaps, each debited once.
func concurrentRuns(t *testing.T, servers []*server, callers int) {
	s := servers[0]
	a := keyAuth(testKeyFor(t, s))
	t0 := time.Date(2091, 1, 5, 9, 0, 0, 0, time.UTC)
	advance(t, s, a, t0)
	var prod, price, plan clientView
	s.ok(t, a, "billing.products.create", map[string]any{"name": "weekly"}, &prod)
	s.ok(t, a, "billing.prices.create", map[string]any{"products_id": prod.ID, "amount": 700, "currency": "USD", "recurring": true, "schedule": "week"}, &price)
	s.ok(t, a, "billing.plans.create", map[string]any{"products_id": prod.ID, "code_name": uniq("weekly"), "name": "Weekly", "prices": []int64{price.ID}}, &plan)
	const subs = 12
	var client clientView
	s.ok(t, a, "clients.create", map[string]any{"name": uniq("runs "), "currency": "USD"}, &client)
	ids := make([]int64, subs)
	for i := range ids {
		var v idOnly
		s.ok(t, a, "billing.subscriptions.create", map[string]any{"clients_id": client.ID, "plan": plan.ID}, &v)
		ids[i] = v.ID
	}
	to := t0.AddDate(0, 0, 42)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			srv := servers[i%len(servers)]
			var r reply
			if i%2 == 0 {
				r = srv.rpc(t, a, "billing.test_clock.advance", map[string]any{"to": to.Format(time.RFC3339)})
			} else {
				r = srv.rpc(t, a, "billing.run", map[string]any{})
			}
			if r.Err != nil {
				t.Errorf("caller %d: %+v", i, r.Err)
			}
		}(i)
	}
	wg.Wait()
	// Twice more, in sequence: nothing left to do.
	for _, srv := range servers {
		var r runView
		srv.ok(t, a, "billing.run", map[string]any{}, &r)
		if len(r.Invoices) != 0 {
			t.Errorf("a later run made invoices %v", r.Invoices)
		}
	}
	invs := clientInvoices(t, s, a, client.ID)
	if len(invs) != subs*7 {
		t.Errorf("%d invoices, want %d", len(invs), subs*7)
	}
	periods := map[string]bool{}
	var numbers []int64
	var total int64
	for _, inv := range invs {
		key := fmt.Sprintf("%d@%s", *inv.SubscriptionsID, inv.PeriodStart.UTC().Format(time.RFC3339))
		if periods[key] {
			t.Errorf("period %s invoiced twice", key)
		}
		periods[key] = true
		numbers = append(numbers, *inv.Number)
		total += inv.Total
	}
	for _, id := range ids {
		for w := range 7 {
			if key := fmt.Sprintf("%d@%s", id, t0.AddDate(0, 0, 7*w).Format(time.RFC3339)); !periods[key] {
				t.Errorf("period %s not invoiced", key)
			}
		}
	}
	slices.Sort(numbers)
	for i, n := range numbers {
		if n != int64(i+1) {
			t.Fatalf("invoice numbers %v are not 1..%d", numbers, len(numbers))
		}
	}
	s.ok(t, a, "clients.get", map[string]any{"id": client.ID}, &client)
	var txCount struct {
		Count int64 `json:"count"`
	}
	s.ok(t, a, "accounting.transactions.count", map[string]any{"clients_id": client.ID}, &txCount)
	if client.Balance != -total || txCount.Count != int64(len(invs)) {
		t.Errorf("balance %d for %d invoices totalling %d, %d ledger entries", client.Balance, len(invs), total, txCount.Count)
	}
}

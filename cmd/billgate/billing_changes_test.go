package main

import (
	"math/big"
	"testing"
	"time"
)

// TestSeatsAndPriceChanges: seats added and removed mid-period are prorated;
// a next-cycle price change waits for the period's end; an instant change to
// a yearly price credits the unused month and starts a new yearly period.
// 2092 is a leap year: February has 29 days.
func TestSeatsAndPriceChanges(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(testKeyFor(t, s))
		day := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
		advance(t, s, a, day(2092, 1, 10, 0))
		var prod, p1, p2, p3, plan idOnly
		s.ok(t, a, "billing.products.create", map[string]any{"name": "seats"}, &prod)
		for _, p := range []struct {
			v        *idOnly
			amount   int
			schedule string
		}{{&p1, 1000, "month"}, {&p2, 1500, "month"}, {&p3, 10000, "year"}} {
			s.ok(t, a, "billing.prices.create", map[string]any{"products_id": prod.ID, "amount": p.amount, "currency": "USD", "recurring": true, "schedule": p.schedule}, p.v)
		}
		s.ok(t, a, "billing.plans.create", map[string]any{"products_id": prod.ID, "code_name": uniq("team"), "name": "Team", "per_seat": true,
			"prices": []int64{p1.ID, p2.ID, p3.ID}}, &plan)
		var client clientView
		s.ok(t, a, "clients.create", map[string]any{"name": uniq("team "), "currency": "USD", "timezone": "UTC"}, &client)
		var sub subView
		s.ok(t, a, "billing.subscriptions.create", map[string]any{"clients_id": client.ID, "plan": plan.ID, "price": p1.ID, "seats": 3}, &sub)
		jan10, feb10, mar10 := day(2092, 1, 10, 0), day(2092, 2, 10, 0), day(2092, 3, 10, 0)

		advance(t, s, a, day(2092, 1, 20, 0))
		s.ok(t, a, "billing.subscriptions.add_seats", map[string]any{"id": sub.ID, "seats": 2}, &sub)
		advance(t, s, a, day(2092, 1, 25, 0))
		s.ok(t, a, "billing.subscriptions.remove_seats", map[string]any{"id": sub.ID, "seats": 1}, &sub)
		s.ok(t, a, "billing.subscriptions.change_price", map[string]any{"id": sub.ID, "price": p2.ID, "when": "next_cycle"}, &sub)
		if sub.Seats != 4 || sub.PricesID != p1.ID || sub.PendingPricesID == nil || *sub.PendingPricesID != p2.ID {
			t.Fatalf("after the seat changes: %+v", sub)
		}
		wantCode(t, s.rpc(t, a, "billing.subscriptions.remove_seats", map[string]any{"id": sub.ID, "seats": 4}), "unprocessable", "no seats left")

		advance(t, s, a, feb10) // the next-cycle price applies
		s.ok(t, a, "billing.subscriptions.get", map[string]any{"id": sub.ID}, &sub)
		if sub.PricesID != p2.ID || sub.PendingPricesID != nil {
			t.Fatalf("at the renewal: %+v", sub)
		}
		switchAt := day(2092, 2, 24, 12)
		advance(t, s, a, switchAt)
		s.ok(t, a, "billing.subscriptions.change_price", map[string]any{"id": sub.ID, "price": p3.ID, "when": "instantly"}, &sub)
		yearEnd := day(2093, 2, 24, 12)
		if !sub.BillingAnchor.Equal(switchAt) || !sub.CurrentPeriodEnd.Equal(yearEnd) {
			t.Fatalf("after switching to yearly: %+v", sub)
		}
		advance(t, s, a, yearEnd)

		invs := clientInvoices(t, s, a, client.ID)
		if len(invs) != 6 {
			t.Fatalf("%d invoices, want 6", len(invs))
		}
		wantLine(t, invs[0], 0, "subscription", 3, 1000, 3000, "0", jan10, feb10)
		wantLine(t, invs[1], 0, "proration", 2, 1000, halfEven(mul(2000, frac(21, 31))), "0", day(2092, 1, 20, 0), feb10)   // 1354.84
		wantLine(t, invs[2], 0, "proration", -1, 1000, halfEven(mul(-1000, frac(16, 31))), "0", day(2092, 1, 25, 0), feb10) // -516.13
		wantLine(t, invs[3], 0, "subscription", 4, 1500, 6000, "0", feb10, mar10)
		half := share(switchAt, feb10, mar10) // 14.5 of 29 days
		if half.Cmp(frac(1, 2)) != 0 {
			t.Fatalf("the test's share is %s", half)
		}
		wantLine(t, invs[4], 0, "proration", -4, 1500, -3000, "0", switchAt, mar10)
		wantLine(t, invs[4], 1, "proration", 4, 10000, 40000, "0", switchAt, yearEnd)
		wantLine(t, invs[5], 0, "subscription", 4, 10000, 40000, "0", yearEnd, day(2094, 2, 24, 12))
		if invs[1].Total != 1355 || invs[2].Total != -516 || invs[4].Total != 37000 {
			t.Errorf("totals: %d %d %d", invs[1].Total, invs[2].Total, invs[4].Total)
		}
		var txs []struct {
			Amount int64  `json:"amount"`
			Type   string `json:"type"`
		}
		s.ok(t, a, "accounting.transactions.search", map[string]any{"clients_id": client.ID, "order": "id"}, &txs)
		if len(txs) != 6 || txs[2].Type != "adjustment" || txs[2].Amount != 516 || txs[1].Type != "charge" || txs[1].Amount != -1355 {
			t.Errorf("ledger: %+v", txs)
		}
	})
}

// invoicePaid is what payments did to an invoice.
type invoicePaid struct {
	Status     string `json:"status"`
	AmountPaid int64  `json:"amount_paid"`
}

// TestCancellationRefunds: an instant prorated refund, a full refund at the
// end of the period, a prorated refund on a chosen date, and nothing for a
// trial. Each is a refund invoice (a credit with tax, posted to the ledger as
// an adjustment) that first settles what the period's invoice still owes,
// then comes back as refunds of its payments (ledger debits): the instant
// one's invoice was paid in full, the end-of-period one's in part, the
// dated one's not at all.
func TestCancellationRefunds(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(testKeyFor(t, s))
		mar1, apr1 := time.Date(2093, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2093, 4, 1, 0, 0, 0, 0, time.UTC)
		advance(t, s, a, mar1)
		var prod, price, plan idOnly
		s.ok(t, a, "billing.products.create", map[string]any{"name": "refunds", "tax_type": "standard"}, &prod)
		s.ok(t, a, "billing.prices.create", map[string]any{"products_id": prod.ID, "amount": 3100, "currency": "USD", "recurring": true, "schedule": "month"}, &price)
		s.ok(t, a, "billing.plans.create", map[string]any{"products_id": prod.ID, "code_name": uniq("r"), "name": "R", "prices": []int64{price.ID}}, &plan)
		var client clientView
		s.ok(t, a, "clients.create", map[string]any{"name": uniq("refunds "), "currency": "USD", "standard_tax_rate": "10", "timezone": "UTC"}, &client)
		start := func(trial int) int64 {
			var v idOnly
			s.ok(t, a, "billing.subscriptions.create", map[string]any{"clients_id": client.ID, "plan": plan.ID, "trial_days": trial}, &v)
			return v.ID
		}
		instant, atEnd, onDate, trial := start(0), start(0), start(0), start(30)
		firstInvoice := map[int64]int64{}
		for _, inv := range clientInvoices(t, s, a, client.ID) {
			firstInvoice[*inv.SubscriptionsID] = inv.ID
		}
		pay := func(sub, amount int64) int64 {
			var p idOnly
			s.ok(t, a, "billing.payments.create", map[string]any{"clients_id": client.ID, "invoices": []int64{firstInvoice[sub]},
				"amount": amount, "method": "bank_transfer"}, &p)
			return p.ID
		}
		paidInFull, paidInPart := pay(instant, 3410), pay(atEnd, 1000)
		s.ok(t, a, "billing.subscriptions.cancel", map[string]any{"id": atEnd, "refund_type": "full"}, nil)
		s.ok(t, a, "billing.subscriptions.cancel", map[string]any{"id": onDate, "when": "specific-date", "date": "2093-03-21", "refund_type": "prorate", "__tz": "UTC"}, nil)
		mar11 := time.Date(2093, 3, 11, 0, 0, 0, 0, time.UTC)
		advance(t, s, a, mar11)
		s.ok(t, a, "billing.subscriptions.cancel", map[string]any{"id": instant, "when": "instantly", "refund_type": "prorate"}, nil)
		s.ok(t, a, "billing.subscriptions.cancel", map[string]any{"id": trial, "when": "instantly", "refund_type": "full"}, nil)
		advance(t, s, a, apr1)

		refunds := map[int64]invoiceView{}
		for _, inv := range clientInvoices(t, s, a, client.ID) {
			if inv.Kind == "refund" {
				refunds[*inv.SubscriptionsID] = inv
			}
		}
		if len(refunds) != 3 {
			t.Fatalf("refund invoices: %+v", refunds)
		}
		check := func(sub int64, f *big.Rat) {
			t.Helper()
			inv := refunds[sub]
			wantLine(t, inv, 0, "refund", -1, 3100, halfEven(mul(-3100, f)), "10", mar1, apr1)
			wantTotals(t, inv, mul(-3100, f), 10)
		}
		check(instant, frac(21, 31)) // 21 of 31 days unused: -2100, tax -210
		check(atEnd, frac(1, 1))     // the whole period: -3100, tax -310
		check(onDate, frac(11, 31))  // ends on the 21st: -1100, tax -110
		if refunds[instant].Total != -2310 || refunds[atEnd].Total != -3410 || refunds[onDate].Total != -1210 {
			t.Errorf("refund totals: %d %d %d", refunds[instant].Total, refunds[atEnd].Total, refunds[onDate].Total)
		}
		var sub subView
		s.ok(t, a, "billing.subscriptions.get", map[string]any{"id": onDate}, &sub)
		if sub.Status != "cancelled" || !sub.EndedAt.Equal(time.Date(2093, 3, 21, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("cancelled on a date: %+v", sub)
		}
		var refunds2 []struct {
			PaymentsID       int64  `json:"payments_id"`
			Amount           int64  `json:"amount"`
			SubscriptionsID  *int64 `json:"subscriptions_id"`
			CreditInvoicesID *int64 `json:"credit_invoices_id"`
			TransactionsID   *int64 `json:"transactions_id"`
		}
		s.ok(t, a, "billing.clients.refunds", map[string]any{"clients_id": client.ID, "order": "id"}, &refunds2)
		if len(refunds2) != 2 || refunds2[0].PaymentsID != paidInFull || refunds2[0].Amount != 2310 || *refunds2[0].SubscriptionsID != instant ||
			*refunds2[0].CreditInvoicesID != refunds[instant].ID || refunds2[1].PaymentsID != paidInPart || refunds2[1].Amount != 1000 ||
			*refunds2[1].SubscriptionsID != atEnd || refunds2[0].TransactionsID == nil {
			t.Fatalf("refunds: %+v", refunds2)
		}
		// The end-of-period credit paid the 2410 still owed, the dated one 1210 of 3410.
		paid := map[int64]invoicePaid{}
		for _, sub := range []int64{instant, atEnd, onDate} {
			var inv invoicePaid
			s.ok(t, a, "billing.invoices.get", map[string]any{"id": firstInvoice[sub]}, &inv)
			paid[sub] = inv
		}
		if paid[instant].Status != "paid" || paid[atEnd].Status != "paid" || paid[atEnd].AmountPaid != 3410 ||
			paid[onDate].Status != "finalized" || paid[onDate].AmountPaid != 1210 {
			t.Errorf("invoices after the credits: %+v", paid)
		}
		var txs []struct {
			Amount int64  `json:"amount"`
			Type   string `json:"type"`
		}
		s.ok(t, a, "accounting.transactions.search", map[string]any{"clients_id": client.ID, "order": "id", "limit": 100}, &txs)
		var sum, refunded, credited int64
		for _, tx := range txs {
			sum += tx.Amount
			switch tx.Type {
			case "refund":
				refunded += tx.Amount
			case "adjustment":
				credited += tx.Amount
			}
		}
		if refunded != -3310 || credited != 2310+3410+1210 {
			t.Errorf("ledger: refunds %d, credits %d: %+v", refunded, credited, txs)
		}
		var c clientView
		s.ok(t, a, "clients.get", map[string]any{"id": client.ID}, &c)
		if c.Balance != sum || sum != -2200 { // what the dated subscription's used days still owe
			t.Errorf("balance %d, ledger %d, want -2200", c.Balance, sum)
		}
	})
}

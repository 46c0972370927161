package main

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/tz"
)

// TestKillBillScenario runs a subscription's life over the public API, in
// the Kill Bill style, with the test clock: a product, two prices and plans,
// a client in Berlin paying 19% tax on digital products; a 14-day trial from
// 17 January 2096 (a leap year) ending on the 31st; three monthly renewals
// (31 Jan → 29 Feb → 31 Mar across the DST change → 30 Apr); an instant
// upgrade mid-cycle; a cancellation at the end of the period. Every invoice
// line is checked to the minor unit against amounts the test computes itself.
func TestKillBillScenario(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		berlin, err := tz.Load("Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		at := func(m time.Month, d, h, min int) time.Time { return time.Date(2096, m, d, h, min, 0, 0, berlin) }
		a := keyAuth(testKeyFor(t, s))
		advance(t, s, a, at(1, 17, 10, 0))
		cat := makeCatalog(t, s, a, 14, false)
		var basic, pro struct {
			CodeName string `json:"code_name"`
		}
		s.ok(t, a, "billing.plans.get", map[string]any{"id": cat.basic}, &basic)
		s.ok(t, a, "billing.plans.get", map[string]any{"id": cat.pro}, &pro)
		var client clientView
		s.ok(t, a, "clients.create", map[string]any{"name": "Kill Bill GmbH", "currency": "EUR", "timezone": "Europe/Berlin",
			"standard_tax_rate": "7", "digital_tax_rate": "19", "type": "business"}, &client)

		// The trial: 14 days, nothing billed.
		var sub subView
		s.ok(t, a, "billing.subscriptions.create", map[string]any{"clients_id": client.ID, "plan": basic.CodeName}, &sub)
		trialEnd := at(1, 31, 10, 0)
		if sub.Status != "trialing" || sub.TrialEndsAt == nil || !sub.TrialEndsAt.Equal(trialEnd) || sub.BillingAnchor != nil {
			t.Fatalf("started: %+v, want trialing until %s", sub, trialEnd)
		}
		if r := advance(t, s, a, at(1, 30, 23, 59)); len(r.Invoices) != 0 || len(clientInvoices(t, s, a, client.ID)) != 0 {
			t.Fatalf("billed during the trial: %+v", r)
		}

		// Trial end and three renewals: one invoice each, in advance.
		boundaries := []time.Time{trialEnd, at(2, 29, 10, 0), at(3, 31, 10, 0), at(4, 30, 10, 0), at(5, 31, 10, 0)}
		for i, b := range boundaries[:4] {
			r := advance(t, s, a, b)
			if len(r.Invoices) != 1 {
				t.Fatalf("advancing to %s made invoices %v, want one", b, r.Invoices)
			}
			s.ok(t, a, "billing.subscriptions.get", map[string]any{"id": sub.ID}, &sub)
			if sub.Status != "active" || !sub.CurrentPeriodStart.Equal(b) || !sub.CurrentPeriodEnd.Equal(boundaries[i+1]) {
				t.Fatalf("after %s: %+v", b, sub)
			}
		}
		if h, m, _ := boundaries[2].In(berlin).Clock(); h != 10 || m != 0 || boundaries[2].Sub(boundaries[1]) != 31*24*time.Hour-time.Hour {
			t.Fatalf("the test's own March period is wrong: %s", boundaries[2])
		}

		// Mid-cycle upgrade, instantly: the unused share of the period is
		// credited at the old price and charged at the new one.
		upgradeAt := at(5, 15, 16, 0)
		if r := advance(t, s, a, upgradeAt); len(r.Invoices) != 0 {
			t.Fatalf("invoices mid-cycle: %v", r.Invoices)
		}
		s.ok(t, a, "billing.subscriptions.change_plan", map[string]any{"id": sub.ID, "plan": pro.CodeName, "when": "instantly"}, &sub)
		if sub.PlansID != cat.pro || sub.PricesID != cat.proPrice || !sub.CurrentPeriodEnd.Equal(boundaries[4]) {
			t.Fatalf("after the upgrade: %+v", sub)
		}

		// Cancel at the end of the run: nothing more is billed.
		s.ok(t, a, "billing.subscriptions.cancel", map[string]any{"id": sub.ID, "when": "end-of-run", "comment": "moving on"}, &sub)
		if sub.Status != "pending_cancel" || sub.CancelAt == nil || !sub.CancelAt.Equal(boundaries[4]) {
			t.Fatalf("after cancel: %+v", sub)
		}
		if r := advance(t, s, a, at(6, 15, 0, 0)); len(r.Invoices) != 0 {
			t.Fatalf("billed after the cancellation: %v", r.Invoices)
		}
		s.ok(t, a, "billing.subscriptions.get", map[string]any{"id": sub.ID}, &sub)
		if sub.Status != "cancelled" || sub.EndedAt == nil || !sub.EndedAt.Equal(boundaries[4]) {
			t.Fatalf("at the end: %+v", sub)
		}

		// Every invoice, every line.
		invs := clientInvoices(t, s, a, client.ID)
		if len(invs) != 5 {
			t.Fatalf("%d invoices, want 5 (4 periods + the upgrade)", len(invs))
		}
		var balance int64
		for i, inv := range invs {
			if inv.Number == nil || *inv.Number != int64(i+1) || inv.Status != "finalized" || inv.Currency != "EUR" || inv.TransactionsID == nil {
				t.Errorf("invoice %d: %+v", i+1, inv)
			}
			balance -= inv.Total
		}
		for i, inv := range invs[:4] {
			from, to := boundaries[i], boundaries[i+1]
			if inv.Kind != "cycle" || !inv.IssuedAt.Equal(from) || !inv.PeriodStart.Equal(from) || !inv.PeriodEnd.Equal(to) || len(inv.Lines) != 1 {
				t.Errorf("period invoice %d: %+v", i+1, inv)
			}
			wantLine(t, inv, 0, "subscription", 1, 1999, 1999, "19", from, to)
			wantTotals(t, inv, big.NewRat(1999, 1), 19)
			if inv.Tax != 380 || inv.Total != 2379 { // 1999 × 19% = 379.81
				t.Errorf("period invoice %d: tax %d total %d, want 380 and 2379", i+1, inv.Tax, inv.Total)
			}
		}
		up := invs[4]
		f := share(upgradeAt, boundaries[3], boundaries[4]) // 15 d 18 h of 31 d = 63/124
		if f.Cmp(frac(63, 124)) != 0 {
			t.Fatalf("the test's own share is %s", f)
		}
		credit, charge := mul(-1999, f), mul(4999, f)
		if up.Kind != "proration" || len(up.Lines) != 2 || !up.IssuedAt.Equal(upgradeAt) {
			t.Fatalf("upgrade invoice: %+v", up)
		}
		wantLine(t, up, 0, "proration", -1, 1999, halfEven(credit), "19", upgradeAt, boundaries[4]) // -1015.62 → -1016
		wantLine(t, up, 1, "proration", 1, 4999, halfEven(charge), "19", upgradeAt, boundaries[4])  // 2539.84 → 2540
		wantTotals(t, up, new(big.Rat).Add(credit, charge), 19)
		if up.Lines[0].Amount != -1016 || up.Lines[1].Amount != 2540 || up.Tax != 290 || up.Total != 1814 {
			t.Errorf("upgrade amounts: %+v", up)
		}
		checkUpgradePDF(t, s, a, up)

		// The ledger was debited once per invoice.
		s.ok(t, a, "clients.get", map[string]any{"id": client.ID}, &client)
		if client.Balance != balance || balance != -(4*2379+1814) {
			t.Errorf("balance %d, want %d", client.Balance, balance)
		}
		var txs []struct {
			Amount int64  `json:"amount"`
			Type   string `json:"type"`
			Notes  string `json:"notes"`
		}
		s.ok(t, a, "accounting.transactions.search", map[string]any{"clients_id": client.ID, "order": "id"}, &txs)
		if len(txs) != 5 {
			t.Fatalf("ledger entries: %+v", txs)
		}
		for i, tx := range txs {
			if tx.Type != "charge" || tx.Amount != -invs[i].Total || tx.Notes != fmt.Sprintf("invoice %d", i+1) {
				t.Errorf("ledger entry %d: %+v for invoice total %d", i+1, tx, invs[i].Total)
			}
		}
	})
}

package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type paymentView struct {
	ID             int64  `json:"id"`
	Amount         int64  `json:"amount"`
	Refunded       int64  `json:"refunded"`
	Provider       string `json:"provider"`
	TransactionsID *int64 `json:"transactions_id"`
	Invoices       []struct {
		InvoicesID int64 `json:"invoices_id"`
		Amount     int64 `json:"amount"`
	} `json:"invoices"`
}

type paidInvoice struct {
	ID         int64      `json:"id"`
	Number     *int64     `json:"number"`
	Status     string     `json:"status"`
	Total      int64      `json:"total"`
	AmountPaid int64      `json:"amount_paid"`
	PaidAt     *time.Time `json:"paid_at"`
}

// ledgerAgrees checks that the client's balance is the sum of its ledger and
// equals want, to the minor unit.
func ledgerAgrees(t *testing.T, s *server, a auth, client, want int64, step string) {
	t.Helper()
	var txs []struct {
		Amount       int64 `json:"amount"`
		BalanceAfter int64 `json:"balance_after"`
	}
	s.ok(t, a, "accounting.transactions.search", map[string]any{"clients_id": client, "order": "id", "limit": 1000}, &txs)
	var sum int64
	for _, tx := range txs {
		sum += tx.Amount
		if tx.BalanceAfter != sum {
			t.Errorf("%s: a ledger entry's balance_after is %d, the running sum %d", step, tx.BalanceAfter, sum)
		}
	}
	var c clientView
	s.ok(t, a, "clients.get", map[string]any{"id": client}, &c)
	if c.Balance != sum || sum != want {
		t.Errorf("%s: balance %d, ledger sum %d, want %d", step, c.Balance, sum, want)
	}
}

// newPayingClient makes a USD client with a 10% standard tax rate and a
// finalized manual invoice of 100.00 + 10.00 tax.
func newPayingClient(t *testing.T, s *server, a auth) (client, invoice int64) {
	t.Helper()
	var c, inv idOnly
	s.ok(t, a, "clients.create", map[string]any{"name": uniq("payer "), "currency": "USD", "standard_tax_rate": "10"}, &c)
	s.ok(t, a, "billing.invoices.create", map[string]any{"clients_id": c.ID, "lines": []map[string]any{{"description": "consulting", "unit_amount": 10000}}}, &inv)
	s.ok(t, a, "billing.invoices.finalize", map[string]any{"id": inv.ID}, nil)
	return c.ID, inv.ID
}

// TestPaymentScenario is issue 7's first acceptance scenario over the public
// API: an invoice is finalized, paid in part, then in full (it becomes
// paid), and part of a payment is refunded; a retried reference is refused,
// an over-refund is refused and changes nothing; the ledger and the balance
// agree to the minor unit at every step. The receipt PDF shows the payment.
func TestPaymentScenario(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		client, invID := newPayingClient(t, s, a)
		ledgerAgrees(t, s, a, client, -11000, "finalized")

		var p1, p2 paymentView
		s.ok(t, a, "billing.payments.create", map[string]any{"clients_id": client, "invoices": []int64{invID}, "amount": 4000,
			"method": "bank_transfer", "external_reference": "WIRE-0001"}, &p1)
		var inv paidInvoice
		s.ok(t, a, "billing.invoices.get", map[string]any{"id": invID}, &inv)
		if inv.Status != "finalized" || inv.AmountPaid != 4000 || p1.TransactionsID == nil || len(p1.Invoices) != 1 || p1.Invoices[0].Amount != 4000 {
			t.Fatalf("after the partial payment: invoice %+v, payment %+v", inv, p1)
		}
		ledgerAgrees(t, s, a, client, -7000, "partial payment")

		// The same bank reference again (a retry without an idempotency key).
		r := s.rpc(t, a, "billing.payments.create", map[string]any{"clients_id": client, "invoices": []int64{invID}, "amount": 4000,
			"external_reference": "WIRE-0001"})
		if r.Err == nil || r.Err.dataCode() != "conflict" || r.Err.field("external_reference") == "" {
			t.Fatalf("a reference recorded twice: %+v %s", r.Err, r.Result)
		}
		ledgerAgrees(t, s, a, client, -7000, "refused retry")

		s.ok(t, a, "billing.payments.create", map[string]any{"clients_id": client, "invoices": []int64{invID}, "method": "cash"}, &p2)
		s.ok(t, a, "billing.invoices.get", map[string]any{"id": invID}, &inv)
		if p2.Amount != 7000 || inv.Status != "paid" || inv.AmountPaid != 11000 || inv.PaidAt == nil {
			t.Fatalf("after the full payment: invoice %+v, payment %+v", inv, p2)
		}
		ledgerAgrees(t, s, a, client, 0, "full payment")
		wantCode(t, s.rpc(t, a, "billing.payments.create", map[string]any{"clients_id": client, "invoices": []int64{invID}, "amount": 1}),
			"unprocessable", "paying a paid invoice")

		var ref struct {
			ID             int64  `json:"id"`
			Amount         int64  `json:"amount"`
			TransactionsID *int64 `json:"transactions_id"`
		}
		s.ok(t, a, "billing.payments.refund", map[string]any{"id": p2.ID, "amount": 2500, "currency": "USD", "reason": "goodwill"}, &ref)
		if ref.Amount != 2500 || ref.TransactionsID == nil {
			t.Fatalf("refund: %+v", ref)
		}
		ledgerAgrees(t, s, a, client, -2500, "refund")

		// More than the 4500 left: refused, clearly, and nothing changes.
		r = s.rpc(t, a, "billing.payments.refund", map[string]any{"id": p2.ID, "amount": 5000})
		if r.Err == nil || r.Err.dataCode() != "unprocessable" || !strings.Contains(string(r.Err.Data), "over_refund") ||
			!strings.Contains(r.Err.Message, "4500 left to refund") {
			t.Fatalf("over-refund: %+v %s", r.Err, r.Result)
		}
		s.ok(t, a, "billing.payments.get", map[string]any{"id": p2.ID}, &p2)
		var refunds []idOnly
		s.ok(t, a, "billing.clients.refunds", map[string]any{"clients_id": client}, &refunds)
		if p2.Refunded != 2500 || len(refunds) != 1 {
			t.Errorf("the refused refund changed something: payment %+v, refunds %v", p2, refunds)
		}
		ledgerAgrees(t, s, a, client, -2500, "refused over-refund")

		text := receiptText(t, s, a, p2.ID)
		wantRows(t, text, `^Receipt \d+$`, `^Paid by manual \(cash\)$`, fmt.Sprintf(`^Invoice %d .* 110\.00 USD 70\.00 USD$`, *inv.Number),
			`^Amount paid 70\.00 USD$`, `^Refunded 25\.00 USD$`, `^Net paid 45\.00 USD$`)
	})
}

// receiptText fetches a payment's receipt over REST and JSON-RPC (the same
// document) and returns its text.
func receiptText(t *testing.T, s *server, a auth, id int64) string {
	t.Helper()
	status, h, body := s.raw(t, a, "GET", fmt.Sprintf("/billing/receipts/%d/pdf", id), "", nil)
	if status != 200 || h.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Fatalf("GET receipt: %d %s %.60q", status, h.Get("Content-Type"), body)
	}
	var viaRPC struct {
		PDF []byte `json:"pdf"`
	}
	s.ok(t, a, "billing.receipts.pdf", map[string]any{"id": id}, &viaRPC)
	if !bytes.Equal(viaRPC.PDF, body) {
		t.Fatal("JSON-RPC gave another receipt than REST")
	}
	return pdfText(t, body)
}

// TestConcurrentRefundsNeverOverRefund: 8 refunds of 1000 race on a payment
// of 4000 (two server processes on PostgreSQL): exactly 4 succeed, and the
// ledger holds exactly 4 refund debits.
func TestConcurrentRefundsNeverOverRefund(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		servers := []*server{s}
		if strings.HasPrefix(s.DBURL, "postgres") {
			servers = append(servers, startServer(t, s.DBURL, nil))
		}
		client, invID := newPayingClient(t, s, a)
		var p paymentView
		s.ok(t, a, "billing.payments.create", map[string]any{"clients_id": client, "invoices": []int64{invID}, "amount": 4000}, &p)
		var wg sync.WaitGroup
		codes := make([]string, 8)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := servers[i%len(servers)].rpc(t, a, "billing.payments.refund", map[string]any{"id": p.ID, "amount": 1000})
				codes[i] = "ok"
				if r.Err != nil {
					codes[i] = r.Err.dataCode()
				}
			}()
		}
		wg.Wait()
		var ok, refused int
		for _, c := range codes {
			switch c {
			case "ok":
				ok++
			case "unprocessable":
				refused++
			}
		}
		s.ok(t, a, "billing.payments.get", map[string]any{"id": p.ID}, &p)
		if ok != 4 || refused != 4 || p.Refunded != 4000 {
			t.Fatalf("refunds: %v, payment %+v", codes, p)
		}
		ledgerAgrees(t, s, a, client, -11000+4000-4000, "after the race")
	})
}

// TestPaymentFromBalance: a prepaid client pays an invoice from its balance
// (no money moves: the ledger is unchanged), cannot spend more prepaid money
// than it has (low_balance), and such a payment is not refunded in money.
func TestPaymentFromBalance(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		var c idOnly
		s.ok(t, a, "clients.create", map[string]any{"name": uniq("prepaid "), "currency": "USD"}, &c)
		s.ok(t, a, "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": 5000, "type": "payment"}, nil)
		invoice := func() int64 {
			var inv idOnly
			s.ok(t, a, "billing.invoices.create", map[string]any{"clients_id": c.ID, "lines": []map[string]any{{"description": "hosting", "unit_amount": 3000}}}, &inv)
			s.ok(t, a, "billing.invoices.finalize", map[string]any{"id": inv.ID}, nil)
			return inv.ID
		}
		first := invoice()
		var p paymentView
		s.ok(t, a, "billing.payments.create", map[string]any{"clients_id": c.ID, "invoices": []int64{first}, "provider": "balance"}, &p)
		var inv paidInvoice
		s.ok(t, a, "billing.invoices.get", map[string]any{"id": first}, &inv)
		if p.Amount != 3000 || p.TransactionsID != nil || inv.Status != "paid" {
			t.Fatalf("paid from the balance: %+v, invoice %+v", p, inv)
		}
		ledgerAgrees(t, s, a, c.ID, 2000, "paid from the balance")
		second := invoice() // 2000 of prepaid money left for 3000
		r := s.rpc(t, a, "billing.payments.create", map[string]any{"clients_id": c.ID, "invoices": []int64{second}, "provider": "balance"})
		if r.Err == nil || !strings.Contains(string(r.Err.Data), "low_balance") {
			t.Fatalf("overspending the balance: %+v %s", r.Err, r.Result)
		}
		s.ok(t, a, "billing.payments.create", map[string]any{"clients_id": c.ID, "invoices": []int64{second}, "provider": "balance", "amount": 2000}, nil)
		s.ok(t, a, "billing.invoices.get", map[string]any{"id": second}, &inv)
		if inv.Status != "finalized" || inv.AmountPaid != 2000 {
			t.Errorf("second invoice: %+v", inv)
		}
		ledgerAgrees(t, s, a, c.ID, -1000, "the rest of the balance spent")
		r = s.rpc(t, a, "billing.payments.refund", map[string]any{"id": p.ID, "amount": 100})
		if r.Err == nil || !strings.Contains(string(r.Err.Data), "not_refundable") {
			t.Errorf("refunding a balance payment: %+v %s", r.Err, r.Result)
		}
		wantCode(t, s.rpc(t, a, "billing.payments.create", map[string]any{"clients_id": c.ID, "amount": 10, "provider": "card"}), "invalid_params", "an unknown provider")
	})
}

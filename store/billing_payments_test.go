package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

// finalizedInvoice stores a finalized cycle invoice of total for sub.
func finalizedInvoice(t *testing.T, st *store.Store, ctx context.Context, sub *service.Subscription, number, total int64) *service.Invoice {
	t.Helper()
	inv := cycleInvoice(sub, total)
	err := st.InTx(ctx, func(ctx context.Context) error {
		if _, err := st.CreateInvoice(ctx, inv); err != nil {
			return err
		}
		inv.Status, inv.Number = service.InvoiceFinalized, &number
		return st.UpdateInvoice(ctx, inv, []string{"status", "number"})
	})
	if err != nil {
		t.Fatalf("invoice: %v", err)
	}
	return inv
}

func newPayment(client *service.Client, amount int64, ref string, allocs ...service.PaymentAllocation) *service.Payment {
	return &service.Payment{ClientsID: client.ID, ResellersID: client.ResellersID, Amount: amount, Currency: "USD",
		Provider: service.ProviderManual, Method: service.MethodCash, ExternalReference: ref, Status: service.PaymentCompleted,
		ReceivedAt: time.Date(2030, 5, 2, 0, 0, 0, 0, time.UTC), Invoices: allocs}
}

// TestPaymentsAndRefunds: a payment's external reference is unique per
// reseller and mode (the unique index), its allocations come back with it,
// refunds never pass its amount (a CHECK), what a client's invoices owe is
// summed, and everything is scoped by reseller and mode.
func TestPaymentsAndRefunds(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		cat := mustCatalog(t, st, b.onlyA, &b.A.ID, "pay")
		cA, cA1, cATest := b.clients["A/live"], b.clients["A1/live"], b.clients["A/test"]
		sub := mustSub(t, st, b.onlyA, cA.ID, cat, time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC))
		inv := finalizedInvoice(t, st, b.onlyA, sub, 1, 2500)

		p := newPayment(cA, 1000, "WIRE-1", service.PaymentAllocation{InvoicesID: inv.ID, Amount: 1000})
		if err := st.CreatePayment(b.onlyA, p); err != nil {
			t.Fatal(err)
		}
		got, err := st.FindPayment(b.onlyA, p.ID)
		if err != nil || len(got.Invoices) != 1 || got.Invoices[0] != (service.PaymentAllocation{InvoicesID: inv.ID, Amount: 1000}) || !got.LiveMode {
			t.Fatalf("found %+v, %v", got, err)
		}
		wantCode(t, st.CreatePayment(b.onlyA, newPayment(cA, 5, "WIRE-1")), service.CodeConflict)
		for _, other := range []struct {
			ctx context.Context
			c   *service.Client
		}{{b.onlyA1, cA1}, {b.adminTest, cATest}} { // another reseller, another mode
			if err := st.CreatePayment(other.ctx, newPayment(other.c, 5, "WIRE-1")); err != nil {
				t.Errorf("the same reference elsewhere: %v", err)
			}
		}
		for range 2 { // no reference: no uniqueness
			if err := st.CreatePayment(b.onlyA, newPayment(cA, 7, "")); err != nil {
				t.Fatal(err)
			}
		}
		_, err = st.FindPayment(b.onlyB, p.ID)
		wantCode(t, err, service.CodeNotFound)
		_, err = st.FindPayment(b.adminTest, p.ID)
		wantCode(t, err, service.CodeNotFound)
		wantCode(t, st.CreatePayment(b.onlyB, newPayment(cA, 5, "x")), service.CodeNotFound)
		if rows, err := st.SearchPayments(b.onlyB, service.Query{}); err != nil || len(rows) != 0 {
			t.Errorf("B sees payments %v %v", rows, err)
		}
		if pays, err := st.PaymentsForInvoices(b.onlyA, []int64{inv.ID}); err != nil || len(pays) != 1 || pays[0].ID != p.ID {
			t.Errorf("payments of the invoice: %v %v", pays, err)
		}
		_, err = st.LockPayment(b.onlyA, p.ID)
		wantCode(t, err, service.CodeInternal) // outside a transaction

		if owed, err := st.ClientOutstanding(b.onlyA, cA.ID); err != nil || owed != 2500 {
			t.Errorf("owed %d, %v; want 2500", owed, err)
		}
		inv.AmountPaid = 1000
		if err := st.UpdateInvoice(b.onlyA, inv, []string{"amount_paid"}); err != nil {
			t.Fatal(err)
		}
		if owed, err := st.ClientOutstanding(b.onlyA, cA.ID); err != nil || owed != 1500 {
			t.Errorf("owed %d, %v; want 1500", owed, err)
		}

		if err := st.SetPaymentRefunded(b.onlyA, p.ID, 400); err != nil {
			t.Fatal(err)
		}
		if err := st.SetPaymentRefunded(b.onlyA, p.ID, 1001); err == nil {
			t.Error("the database let a payment refund more than its amount")
		}
		wantCode(t, st.SetPaymentRefunded(b.onlyB, p.ID, 1), service.CodeNotFound)
		r := &service.Refund{PaymentsID: p.ID, Amount: 400, Currency: "USD", Reason: "r", Status: service.PaymentCompleted}
		if err := st.CreateRefund(b.onlyA, r); err != nil || r.ClientsID != cA.ID || r.ID == 0 {
			t.Fatalf("refund %+v: %v", r, err)
		}
		wantCode(t, st.CreateRefund(b.onlyB, &service.Refund{PaymentsID: p.ID, Amount: 1, Currency: "USD", Status: service.PaymentCompleted}),
			service.CodeNotFound)
		if _, err := st.FindRefund(b.onlyA1, r.ID); service.CodeOf(err) != service.CodeNotFound {
			t.Errorf("A1 sees A's refund: %v", err)
		}
		rows, err := st.SearchRefunds(b.admin, service.Query{Filters: []service.Filter{{Field: "payments_id", Values: []any{p.ID}}}})
		if err != nil || !slices.Equal(ids(rows, func(r *service.Refund) int64 { return r.ID }), []int64{r.ID}) {
			t.Errorf("refunds of the payment: %v %v", rows, err)
		}
	})
}

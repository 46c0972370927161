package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func mustSub(t *testing.T, st *store.Store, ctx context.Context, client int64, cat catalogFixture, start time.Time) *service.Subscription {
	t.Helper()
	sub := &service.Subscription{ClientsID: client, PlansID: cat.plan.ID, PricesID: cat.price.ID, Status: service.SubActive,
		Seats: 1, Schedule: "month", Currency: "USD", Timezone: "UTC", BillingAnchor: &start, CurrentPeriodStart: start,
		CurrentPeriodEnd: start.AddDate(0, 1, 0), CancelRefundType: service.RefundNone}
	if err := st.CreateSubscription(ctx, sub); err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	return sub
}

func cycleInvoice(sub *service.Subscription, amount int64) *service.Invoice {
	start, end := sub.CurrentPeriodStart, sub.CurrentPeriodEnd
	rate, _ := service.ParseTaxRate("19.5")
	return &service.Invoice{ClientsID: sub.ClientsID, SubscriptionsID: &sub.ID, Kind: service.InvoiceKindCycle,
		Status: service.InvoiceDraft, Currency: "USD", Subtotal: amount, Tax: 0, Total: amount, PeriodStart: &start,
		PeriodEnd: &end, IssuedAt: start, DueAt: start,
		Lines: []*service.InvoiceLine{{Position: 1, Kind: service.LineSubscription, Description: "period", PricesID: &sub.PricesID,
			Quantity: 1, UnitAmount: amount, Amount: amount, TaxRate: rate, PeriodStart: &start, PeriodEnd: &end}}}
}

func TestSubscriptionsAreDueAndScoped(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		catA := mustCatalog(t, st, b.onlyA, &b.A.ID, "a")
		catB := mustCatalog(t, st, b.onlyB, &b.B.ID, "b")
		t0 := time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)
		early := mustSub(t, st, b.onlyA, b.clients["A1/live"].ID, catA, t0)
		late := mustSub(t, st, b.onlyA, b.clients["A/live"].ID, catA, t0.AddDate(0, 0, 10))
		other := mustSub(t, st, b.onlyB, b.clients["B/live"].ID, catB, t0)
		if got, err := st.FindSubscription(b.onlyA1, early.ID); err != nil || !got.CurrentPeriodEnd.Equal(t0.AddDate(0, 1, 0)) || *got.BillingAnchor != t0 {
			t.Fatalf("found %+v %v", got, err)
		}
		_, err := st.FindSubscription(b.onlyA, other.ID)
		wantCode(t, err, service.CodeNotFound)
		_, err = st.FindSubscription(b.adminTest, early.ID)
		wantCode(t, err, service.CodeNotFound)

		due := func(ctx context.Context, now time.Time, skip ...int64) []int64 {
			t.Helper()
			ids, err := st.DueSubscriptions(ctx, now, 10, skip)
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		month := t0.AddDate(0, 1, 0)
		if got := due(b.admin, month.Add(-time.Second)); len(got) != 0 {
			t.Errorf("due before the period ends: %v", got)
		}
		if got := due(b.admin, month.AddDate(0, 0, 10)); !slices.Equal(got, []int64{early.ID, other.ID, late.ID}) {
			t.Errorf("due for the admin: %v, want the earliest first", got)
		}
		if got := due(b.onlyA, month.AddDate(0, 0, 10), early.ID); !slices.Equal(got, []int64{late.ID}) {
			t.Errorf("due for A, skipping %d: %v", early.ID, got)
		}
		if got := due(b.adminTest, month.AddDate(1, 0, 0)); len(got) != 0 {
			t.Errorf("live subscriptions due in test mode: %v", got)
		}
		// A cancellation date before the period's end is due first; a
		// cancelled subscription is never due.
		cancelAt := t0.AddDate(0, 0, 3)
		early.CancelAt, early.Status = &cancelAt, service.SubPendingCancel
		if err := st.UpdateSubscription(b.onlyA, early, []string{"cancel_at", "status"}); err != nil {
			t.Fatal(err)
		}
		if got := due(b.onlyA, cancelAt); !slices.Equal(got, []int64{early.ID}) {
			t.Errorf("due at the cancellation date: %v", got)
		}
		early.Status = service.SubCancelled
		if err := st.UpdateSubscription(b.onlyA, early, []string{"status"}); err != nil {
			t.Fatal(err)
		}
		if got := due(b.onlyA, month.AddDate(5, 0, 0)); !slices.Equal(got, []int64{late.ID}) {
			t.Errorf("due after a cancellation: %v", got)
		}
		_, err = st.LockSubscription(b.onlyA, late.ID)
		wantCode(t, err, service.CodeInternal) // outside a transaction
		wantCode(t, st.UpdateSubscription(b.onlyA, late, []string{"clients_id"}), service.CodeInternal)
	})
}

func TestCycleInvoicesAreUniquePerPeriod(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		cat := mustCatalog(t, st, b.onlyA, &b.A.ID, "a")
		sub := mustSub(t, st, b.onlyA, b.clients["A/live"].ID, cat, time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC))
		var first *service.Invoice
		err := st.InTx(b.onlyA, func(ctx context.Context) error {
			first = cycleInvoice(sub, 1000)
			created, err := st.CreateInvoice(ctx, first)
			if err != nil || !created {
				return errors.Join(err, errors.New("first invoice not created"))
			}
			// The same period again, in the same transaction: not stored, and
			// the transaction goes on (PostgreSQL does not abort it).
			dup := cycleInvoice(sub, 999)
			if created, err := st.CreateInvoice(ctx, dup); err != nil || created || dup.ID != 0 {
				return errors.Join(err, errors.New("duplicate period stored"))
			}
			_, err = st.FindInvoice(ctx, first.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.FindInvoice(b.onlyA, first.ID)
		if err != nil || len(got.Lines) != 1 || got.Lines[0].TaxRate.String() != "19.5" || got.Total != 1000 || got.Status != service.InvoiceDraft ||
			*got.SubscriptionsID != sub.ID || !got.PeriodStart.Equal(sub.CurrentPeriodStart) {
			t.Fatalf("invoice: %+v %v", got, err)
		}
		if n, _ := st.CountInvoices(b.onlyA, service.Query{Filters: []service.Filter{{Field: "subscriptions_id", Values: []any{sub.ID}}}}); n != 1 {
			t.Errorf("%d invoices for the period", n)
		}
		// A proration invoice of the same period is another invoice.
		pro := cycleInvoice(sub, 50)
		pro.Kind = service.InvoiceKindProration
		if created, err := st.CreateInvoice(b.onlyA, pro); err != nil || !created {
			t.Errorf("proration invoice: %v %v", created, err)
		}
		_, err = st.FindInvoice(b.onlyB, first.ID)
		wantCode(t, err, service.CodeNotFound)
		list, err := st.SearchInvoices(b.onlyA, service.Query{Limit: 10, Order: []service.Order{{Field: "id"}}})
		if err != nil || len(list) != 2 || len(list[1].Lines) != 1 {
			t.Errorf("search: %v %v", list, err)
		}
		// Amounts never change; drafts only are deleted.
		got.Total = 1
		wantCode(t, st.UpdateInvoice(b.onlyA, got, []string{"total"}), service.CodeInternal)
		if err := st.DeleteInvoice(b.onlyA, pro.ID); err != nil {
			t.Fatalf("delete a draft: %v", err)
		}
		n := int64(7)
		got.Status, got.Number = service.InvoiceFinalized, &n
		if err := st.UpdateInvoice(b.onlyA, got, []string{"status", "number"}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, st.DeleteInvoice(b.onlyA, got.ID), service.CodeConflict)
	})
}

// TestInvoiceNumbersAreGapFree: numbers count per reseller and mode; a rolled
// back transaction gives its number back; concurrent finalizations get
// distinct, consecutive numbers.
func TestInvoiceNumbersAreGapFree(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		next := func(ctx context.Context, r *int64, live bool) int64 {
			t.Helper()
			var n int64
			err := st.InTx(ctx, func(ctx context.Context) error {
				var err error
				n, err = st.NextInvoiceNumber(ctx, r, live)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if a, b, c := next(f.admin, &f.A.ID, true), next(f.admin, &f.A.ID, true), next(f.admin, &f.B.ID, true); a != 1 || b != 2 || c != 1 {
			t.Errorf("A: %d, %d; B: %d", a, b, c)
		}
		if r, tm := next(f.admin, nil, true), next(f.admin, &f.A.ID, false); r != 1 || tm != 1 {
			t.Errorf("root %d, A in test mode %d", r, tm)
		}
		errRollback := errors.New("rollback")
		err := st.InTx(f.admin, func(ctx context.Context) error {
			if n, err := st.NextInvoiceNumber(ctx, &f.A.ID, true); err != nil || n != 3 {
				t.Errorf("in the rolled back transaction: %d %v", n, err)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if n := next(f.admin, &f.A.ID, true); n != 3 {
			t.Errorf("after a rollback: %d, want 3 again", n)
		}
		_, err = st.NextInvoiceNumber(f.admin, &f.A.ID, true)
		wantCode(t, err, service.CodeInternal) // outside a transaction
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			got []int64
		)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := next(f.admin, &f.B.ID, true)
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			}()
		}
		wg.Wait()
		slices.Sort(got)
		for i, n := range got {
			if n != int64(i+2) {
				t.Fatalf("concurrent numbers %v, want 2..21", got)
			}
		}
	})
}

package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func mustVoucher(t *testing.T, st *store.Store, ctx context.Context, owner *int64, code string, maxRedemptions *int) *service.Voucher {
	t.Helper()
	pct, _ := service.ParseTaxRate("12.5")
	v := &service.Voucher{ResellersID: owner, Code: code, Type: service.VoucherPercentage, Percentage: &pct, Cycles: 2,
		MaxRedemptions: maxRedemptions, Active: true}
	if err := st.CreateVoucher(ctx, v); err != nil {
		t.Fatalf("voucher %s: %v", code, err)
	}
	return v
}

// TestVouchersAndRedemptions: codes are unique per reseller and mode; a
// voucher is applied once per client (unique index); the usage cap holds
// (conditional increment); the active redemptions come with their voucher,
// whoever owns it; cycles run out.
func TestVouchersAndRedemptions(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		one := 1
		v := mustVoucher(t, st, b.admin, nil, "SPRING", &one) // the root's
		wantCode(t, st.CreateVoucher(b.admin, &service.Voucher{Code: "SPRING", Type: service.VoucherFixed, Amount: &one64,
			Currency: &usd, Cycles: 1, Active: true}), service.CodeConflict)
		mustVoucher(t, st, b.onlyA, &b.A.ID, "SPRING", nil) // A's own
		mustVoucher(t, st, b.adminTest, nil, "SPRING", nil) // test mode
		if got, err := st.FindVoucher(b.admin, v.ID); err != nil || got.Percentage.String() != "12.5" || got.Duration != service.DurationRepeating {
			t.Errorf("found %+v %v", got, err)
		}
		_, err := st.FindVoucher(b.onlyA, v.ID)
		wantCode(t, err, service.CodeNotFound)

		cA, cA1 := b.clients["A/live"], b.clients["A1/live"]
		red := &service.VoucherRedemption{VouchersID: v.ID, ClientsID: cA.ID, CyclesLeft: 2, AppliedAt: time.Now()}
		if err := st.CreateRedemption(b.admin, red); err != nil {
			t.Fatal(err)
		}
		wantCode(t, st.CreateRedemption(b.admin, &service.VoucherRedemption{VouchersID: v.ID, ClientsID: cA.ID, CyclesLeft: 2}), service.CodeConflict)
		if ok, err := st.CountRedemption(b.admin, v.ID); !ok || err != nil {
			t.Fatalf("first redemption counted: %v %v", ok, err)
		}
		if ok, err := st.CountRedemption(b.admin, v.ID); ok || err != nil {
			t.Errorf("past the cap: %v %v", ok, err)
		}
		wantCode(t, st.CreateRedemption(b.onlyB, &service.VoucherRedemption{VouchersID: v.ID, ClientsID: cA1.ID, CyclesLeft: 1}), service.CodeNotFound)

		err = st.InTx(b.onlyA, func(ctx context.Context) error {
			reds, err := st.LockActiveRedemptions(ctx, cA.ID)
			if err != nil {
				return err
			}
			if len(reds) != 1 || reds[0].Voucher == nil || reds[0].Voucher.ID != v.ID || reds[0].Code != "SPRING" || reds[0].CyclesLeft != 2 {
				t.Errorf("A reads the root's voucher through its client: %+v", reds)
			}
			for range 2 {
				if err := st.UseRedemption(ctx, red.ID); err != nil {
					return err
				}
			}
			wantCode(t, st.UseRedemption(ctx, red.ID), service.CodeNotFound) // no cycle left
			reds, err = st.LockActiveRedemptions(ctx, cA.ID)
			if len(reds) != 0 {
				t.Errorf("used up, still active: %+v", reds)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.LockActiveRedemptions(b.onlyA, cA.ID)
		wantCode(t, err, service.CodeInternal) // outside a transaction
		wantCode(t, st.DeleteVoucher(b.admin, v.ID), service.CodeConflict)
		v.Active = false
		if err := st.UpdateVoucher(b.admin, v, []string{"active"}); err != nil {
			t.Fatal(err)
		}
	})
}

var (
	one64 = int64(1)
	usd   = "USD"
)

// TestCheckouts: a checkout's items, quoted lines and subscriptions survive
// the round trip; confirming writes its status fields; it is scoped.
func TestCheckouts(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		cA := b.clients["A/live"]
		rate, _ := service.ParseTaxRate("19")
		start := time.Date(2030, 1, 31, 10, 0, 0, 0, time.UTC)
		plan := int64(7)
		co := &service.Checkout{ClientsID: cA.ID, Status: service.CheckoutOpen, Currency: "USD",
			Items: []service.CheckoutItem{{PricesID: 3, PlansID: &plan, Quantity: 2}},
			Lines: []*service.InvoiceLine{{Position: 1, Kind: service.LineSubscription, Description: "seats", Quantity: 2,
				UnitAmount: 500, Amount: 1000, TaxRate: rate, PeriodStart: &start}},
			Subtotal: 1000, Tax: 190, Total: 1190}
		if err := st.CreateCheckout(b.onlyA, co); err != nil {
			t.Fatal(err)
		}
		got, err := st.FindCheckout(b.onlyA, co.ID)
		if err != nil || len(got.Items) != 1 || *got.Items[0].PlansID != 7 || len(got.Lines) != 1 || got.Lines[0].TaxRate.String() != "19" ||
			!got.Lines[0].PeriodStart.Equal(start) || got.Total != 1190 || len(got.Subscriptions) != 0 || !got.LiveMode {
			t.Fatalf("found %+v %v", got, err)
		}
		_, err = st.FindCheckout(b.onlyB, co.ID)
		wantCode(t, err, service.CodeNotFound)
		wantCode(t, st.CreateCheckout(b.onlyB, &service.Checkout{ClientsID: cA.ID, Status: service.CheckoutOpen}), service.CodeNotFound)
		err = st.InTx(b.onlyA, func(ctx context.Context) error {
			locked, err := st.LockCheckout(ctx, co.ID)
			if err == nil && locked.Status != service.CheckoutOpen {
				t.Errorf("locked %+v", locked)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.LockCheckout(b.onlyA, co.ID)
		wantCode(t, err, service.CodeInternal) // outside a transaction
		// status and invoice go together (a CHECK): confirmed without an invoice is refused.
		confirmed := *got
		confirmed.Status = service.CheckoutConfirmed
		if err := st.UpdateCheckout(b.onlyA, &confirmed, []string{"status"}); err == nil {
			t.Error("confirmed without an invoice")
		}
		now := time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC)
		got.Subscriptions, got.ConfirmedAt = []int64{4, 5}, &now
		if err := st.UpdateCheckout(b.onlyA, got, []string{"subscriptions", "confirmed_at"}); err != nil {
			t.Fatal(err)
		}
		if again, err := st.FindCheckout(b.onlyA, co.ID); err != nil || len(again.Subscriptions) != 2 || !again.ConfirmedAt.Equal(now) {
			t.Errorf("after the update: %+v %v", again, err)
		}
		wantCode(t, st.UpdateCheckout(b.onlyB, got, []string{"subscriptions"}), service.CodeNotFound)
	})
}

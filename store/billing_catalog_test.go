package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

// catalogFixture is a product, a monthly USD price and a plan for an owner.
type catalogFixture struct {
	product *service.Product
	price   *service.Price
	plan    *service.Plan
}

func mustCatalog(t *testing.T, st *store.Store, ctx context.Context, owner *int64, code string) catalogFixture {
	t.Helper()
	p := &service.Product{ResellersID: owner, Name: "product " + code, TaxType: service.TaxStandard}
	if err := st.CreateProduct(ctx, p); err != nil {
		t.Fatalf("create product: %v", err)
	}
	pr := &service.Price{ProductsID: p.ID, Amount: 1000, Currency: "USD", Recurring: true, Schedule: "month", Public: true}
	if err := st.CreatePrice(ctx, pr); err != nil {
		t.Fatalf("create price: %v", err)
	}
	pl := &service.Plan{ResellersID: owner, ProductsID: p.ID, CodeName: code, Name: "Plan " + code, PerSeat: true,
		Features: []string{"api"}, Limits: map[string]int64{"api": 10}, Prices: []int64{pr.ID}, Public: true}
	if err := st.CreatePlan(ctx, pl); err != nil {
		t.Fatalf("create plan: %v", err)
	}
	return catalogFixture{p, pr, pl}
}

func TestCatalogCRUDAndScope(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		a := mustCatalog(t, st, f.onlyA, &f.A1.ID, "basic")
		b := mustCatalog(t, st, f.onlyB, &f.B.ID, "basic") // the same code name in another reseller
		test := mustCatalog(t, st, f.adminTest, &f.A.ID, "basic")
		root := mustCatalog(t, st, f.admin, nil, "basic")

		if a.product.ID == 0 || !a.product.LiveMode || test.product.LiveMode || a.price.LiveMode == test.price.LiveMode {
			t.Fatalf("modes: %+v %+v", a.product, test.product)
		}
		got, err := st.FindPlan(f.onlyA, a.plan.ID)
		if err != nil || got.CodeName != "basic" || !slices.Equal(got.Prices, []int64{a.price.ID}) || got.Limits["api"] != 10 ||
			!slices.Equal(got.Features, []string{"api"}) || *got.ResellersID != f.A1.ID {
			t.Fatalf("plan: %+v %v", got, err)
		}
		// Scope: B's, root and test objects do not exist for A (live).
		for name, err := range map[string]error{
			"B's product":     second(st.FindProduct(f.onlyA, b.product.ID)),
			"root product":    second(st.FindProduct(f.onlyA, root.product.ID)),
			"test product":    second(st.FindProduct(f.onlyA, test.product.ID)),
			"B's price":       second(st.FindPrice(f.onlyA, b.price.ID)),
			"test price":      second(st.FindPrice(f.admin, test.price.ID)),
			"B's plan":        second(st.FindPlan(f.onlyA, b.plan.ID)),
			"live plan":       second(st.FindPlan(f.adminTest, a.plan.ID)),
			"price under B":   st.CreatePrice(f.onlyA, &service.Price{ProductsID: b.product.ID, Amount: 1, Currency: "USD", Schedule: service.ScheduleOneOff}),
			"product at root": st.CreateProduct(f.onlyA, &service.Product{Name: "x", TaxType: service.TaxStandard}),
		} {
			if service.CodeOf(err) != service.CodeNotFound {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}
		plans, err := st.SearchPlans(f.onlyA, service.Query{Limit: 100, Order: []service.Order{{Field: "id"}}})
		if err != nil || len(plans) != 1 || plans[0].ID != a.plan.ID {
			t.Errorf("A's plans: %v %v", plans, err)
		}
		if n, err := st.CountProducts(f.admin, service.Query{}); err != nil || n != 3 {
			t.Errorf("live products seen by the admin: %d %v", n, err)
		}
		if n, err := st.CountPrices(f.onlyB, service.Query{Filters: []service.Filter{{Field: "recurring", Values: []any{true}}}}); err != nil || n != 1 {
			t.Errorf("B's recurring prices: %d %v", n, err)
		}

		// A code name is unique per reseller and mode, the root included.
		dup := &service.Plan{ResellersID: &f.A1.ID, ProductsID: a.product.ID, CodeName: "basic", Name: "x", Prices: []int64{a.price.ID}}
		err = st.CreatePlan(f.onlyA, dup)
		wantCode(t, err, service.CodeConflict)
		if fl := service.AsError(err).Fields; fl["code_name"] == "" {
			t.Errorf("conflict does not name code_name: %v", err)
		}
		rootDup := &service.Plan{ProductsID: root.product.ID, CodeName: "basic", Name: "x", Prices: []int64{root.price.ID}}
		wantCode(t, st.CreatePlan(f.admin, rootDup), service.CodeConflict)

		// Updates: the plan's price list is replaced; amounts of prices never change.
		extra := &service.Price{ProductsID: a.product.ID, Amount: 5, Currency: "USD", Schedule: service.ScheduleOneOff}
		if err := st.CreatePrice(f.onlyA, extra); err != nil {
			t.Fatal(err)
		}
		got.Prices, got.Name = []int64{extra.ID, a.price.ID}, "Renamed"
		if err := st.UpdatePlan(f.onlyA, got, []string{"prices", "name"}); err != nil {
			t.Fatal(err)
		}
		again, _ := st.FindPlan(f.onlyA, a.plan.ID)
		if again.Name != "Renamed" || !slices.Equal(again.Prices, sorted(a.price.ID, extra.ID)) {
			t.Errorf("updated plan: %+v", again)
		}
		a.price.Amount = 1
		wantCode(t, st.UpdatePrice(f.onlyA, a.price, []string{"amount"}), service.CodeInternal)
		wantCode(t, st.UpdatePlan(f.onlyB, again, []string{"name"}), service.CodeNotFound)

		// Deletes refused while referenced.
		wantCode(t, st.DeletePrice(f.onlyA, extra.ID), service.CodeConflict)
		wantCode(t, st.DeleteProduct(f.onlyA, a.product.ID), service.CodeConflict)
		if err := st.DeletePlan(f.onlyA, a.plan.ID); err != nil {
			t.Fatalf("delete plan: %v", err)
		}
		if err := st.DeletePrice(f.onlyA, extra.ID); err != nil {
			t.Fatalf("delete price after its plan: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestTestClock(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := testCtx(t, adminPrincipal(false))
		first := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
		c, err := st.TestClock(ctx, first)
		if err != nil || c.Mode != service.ModeTest || !c.Now.Equal(first.Truncate(time.Microsecond)) {
			t.Fatalf("first read: %+v %v", c, err)
		}
		if c, _ := st.TestClock(ctx, first.Add(time.Hour)); !c.Now.Equal(first.Truncate(time.Microsecond)) {
			t.Errorf("the default replaced the stored clock: %+v", c)
		}
		_, err = st.LockTestClock(ctx, first)
		wantCode(t, err, service.CodeInternal) // outside a transaction
		later := first.Add(48 * time.Hour)
		err = st.InTx(ctx, func(ctx context.Context) error {
			if _, err := st.LockTestClock(ctx, first); err != nil {
				return err
			}
			_, err := st.SetTestClock(ctx, later)
			return err
		})
		if c, _ := st.TestClock(ctx, first); err != nil || !c.Now.Equal(later.Truncate(time.Microsecond)) {
			t.Errorf("after set: %+v %v", c, err)
		}
	})
}

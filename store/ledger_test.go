package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func TestTransactions(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		c := mustClient(t, st, f.onlyA, "payer", &f.A1.ID)
		other := mustClient(t, st, f.onlyA, "other payer", &f.A.ID)
		uid, kid := f.uA.ID, f.keys["user-a/live"].ID
		orig, cur, r := int64(10000), "JPY", rate("0.0067")
		at := time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.FixedZone("plus2", 2*3600))
		x := &service.Transaction{ClientsID: c.ID, Amount: 67, Currency: "USD", Type: service.TxPayment, Notes: "wire 42",
			BalanceAfter: 67, OriginalAmount: &orig, OriginalCurrency: &cur, Rate: &r, UsersID: &uid, APIKeysID: &kid,
			LiveMode: false, CreatedAt: at}
		if err := st.CreateTransaction(f.onlyA, x); err != nil {
			t.Fatal(err)
		}
		if x.ID == 0 || !x.LiveMode || !x.CreatedAt.Equal(at.Truncate(time.Microsecond)) {
			t.Fatalf("created %+v", x)
		}
		wantUTCMicro(t, "CreatedAt", x.CreatedAt)
		got, err := st.FindTransaction(f.onlyA1, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ClientsID != c.ID || got.Amount != 67 || got.Currency != "USD" || got.Type != service.TxPayment ||
			got.Notes != "wire 42" || got.BalanceAfter != 67 || *got.OriginalAmount != orig || *got.OriginalCurrency != "JPY" ||
			got.Rate.String() != "0.0067" || *got.UsersID != uid || *got.APIKeysID != kid || !got.CreatedAt.Equal(x.CreatedAt) {
			t.Fatalf("found %+v, created %+v", got, x)
		}
		plain := mustTx(t, st, f.onlyA, c.ID, -30)
		got, err = st.FindTransaction(f.onlyA, plain.ID)
		if err != nil || got.OriginalAmount != nil || got.OriginalCurrency != nil || got.Rate != nil || got.UsersID != nil || got.APIKeysID != nil {
			t.Errorf("a transaction without conversion or author: %+v, %v", got, err)
		}
		mustTx(t, st, f.onlyA, other.ID, 5)
		wantCode(t, st.CreateTransaction(f.onlyA, &service.Transaction{ClientsID: c.ID + 1000, Amount: 1, Currency: "USD",
			Type: service.TxPayment}), service.CodeNotFound)

		txIDs := func(q service.Query) []int64 {
			t.Helper()
			list, err := st.SearchTransactions(f.onlyA, q)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]int64, len(list))
			for i, x := range list {
				out[i] = x.ID
			}
			return out
		}
		ofClient := []service.Filter{{Field: "clients_id", Values: []any{c.ID}}}
		if got := txIDs(service.Query{Limit: 10, Order: []service.Order{{Field: "id"}}, Filters: ofClient}); !slices.Equal(got, []int64{x.ID, plain.ID}) {
			t.Errorf("transactions of the client: %v", got)
		}
		if got := txIDs(service.Query{Limit: 10, Order: []service.Order{{Field: "amount", Desc: true}, {Field: "id"}}}); len(got) != 3 || got[0] != x.ID || got[2] != plain.ID {
			t.Errorf("by amount, descending: %v", got)
		}
		if got := txIDs(service.Query{Limit: 10, Order: []service.Order{{Field: "id"}},
			Filters: []service.Filter{{Field: "type", Values: []any{service.TxCharge}}}}); !slices.Equal(got, []int64{plain.ID}) {
			t.Errorf("charges: %v", got)
		}
		if got := txIDs(service.Query{Limit: 10, Order: []service.Order{{Field: "id"}}, Q: "%wire%", QFields: []string{"notes"}}); !slices.Equal(got, []int64{x.ID}) {
			t.Errorf("q=wire: %v", got)
		}
		if n, err := st.CountTransactions(f.onlyA, service.Query{Filters: ofClient}); err != nil || n != 2 {
			t.Errorf("count of the client: %d, %v", n, err)
		}
		if n, err := st.CountTransactions(f.onlyA1, service.Query{}); err != nil || n != 2 {
			t.Errorf("A1 counts %d transactions (%v); want 2 (not those of the client of A)", n, err)
		}
		_, err = st.FindTransaction(f.onlyB, x.ID)
		wantCode(t, err, service.CodeNotFound)
		_, err = st.FindTransaction(f.adminTest, x.ID)
		wantCode(t, err, service.CodeNotFound)
	})
}

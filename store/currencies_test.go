package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/money"
	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func TestSeededCurrencies(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		base, err := st.BaseCurrency(f.admin)
		if err != nil || base.Code != "USD" || !base.IsBase || base.Exponent != 2 {
			t.Fatalf("base currency: %+v, %v", base, err)
		}
		wantUTCMicro(t, "seeded CreatedAt", base.CreatedAt)
		exponents := map[string]int{"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KRW": 0, "CLP": 0, "VND": 0, "ISK": 0,
			"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "CHF": 2, "INR": 2, "BRL": 2, "ZAR": 2}
		for code, exp := range exponents {
			c, err := st.FindCurrency(f.admin, code)
			if err != nil || c.Code != code || c.Exponent != exp || c.Name == "" || c.IsBase != (code == "USD") {
				t.Errorf("%s: %+v, %v; want exponent %d", code, c, err, exp)
			}
		}
		_, err = st.FindCurrency(f.admin, "XXX")
		wantCode(t, err, service.CodeNotFound)

		every, err := st.SearchCurrencies(f.admin, service.Query{Limit: 1000, Order: []service.Order{{Field: "id"}}})
		if err != nil || len(every) != 46 {
			t.Fatalf("seeded %d currencies, %v; want 46", len(every), err)
		}
		codes := make([]string, len(every))
		for i, c := range every {
			codes[i] = c.Code
		}
		if !slices.IsSorted(codes) || codes[0] != "AED" {
			t.Errorf("order by id (the code): %v", codes)
		}
		cases := []struct {
			name string
			q    service.Query
			want []string
		}{
			{"is_base", service.Query{Limit: 10, Filters: []service.Filter{{Field: "is_base", Values: []any{true}}}}, []string{"USD"}},
			{"code", service.Query{Limit: 10, Order: []service.Order{{Field: "code", Desc: true}},
				Filters: []service.Filter{{Field: "code", Values: []any{"EUR", "JPY", "XXX"}}}}, []string{"JPY", "EUR"}},
			{"q on the name", service.Query{Limit: 10, Order: []service.Order{{Field: "code"}}, Q: "%dinar%", QFields: []string{"code", "name"}},
				[]string{"BHD", "JOD", "KWD", "TND"}},
			{"q on the code", service.Query{Limit: 10, Order: []service.Order{{Field: "code"}}, Q: "us%", QFields: []string{"code", "name"}},
				[]string{"USD"}},
			{"exponent descending", service.Query{Limit: 4, Order: []service.Order{{Field: "exponent", Desc: true}, {Field: "id"}}},
				[]string{"BHD", "JOD", "KWD", "OMR", "TND"}},
		}
		for _, tc := range cases {
			got, err := st.SearchCurrencies(f.admin, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var gotCodes []string
			for _, c := range got {
				gotCodes = append(gotCodes, c.Code)
			}
			if !slices.Equal(gotCodes, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, gotCodes, tc.want)
			}
		}
	})
}

func TestCurrenciesAreGlobal(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := st.CreateRate(b.admin, &service.ExchangeRate{From: "EUR", To: "USD", Rate: rate("1.1"), EffectiveFrom: at}); err != nil {
			t.Fatal(err)
		}
		for name, ctx := range map[string]context.Context{"A": b.onlyA, "B test": b.testB, "unrestricted test": b.adminTest} {
			if c, err := st.FindCurrency(ctx, "EUR"); err != nil || c.Code != "EUR" {
				t.Errorf("%s: FindCurrency: %+v, %v", name, c, err)
			}
			if c, err := st.BaseCurrency(ctx); err != nil || c.Code != "USD" {
				t.Errorf("%s: BaseCurrency: %+v, %v", name, c, err)
			}
			if r, err := st.RateAt(ctx, "EUR", "USD", at); err != nil || r.Rate.String() != "1.1" {
				t.Errorf("%s: RateAt: %+v, %v", name, r, err)
			}
			if rs, err := st.SearchRates(ctx, service.Query{Limit: 10}); err != nil || len(rs) != 1 {
				t.Errorf("%s: SearchRates: %d, %v", name, len(rs), err)
			}
		}
	})
}

func TestOneBaseCurrency(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		bases := func() []string {
			t.Helper()
			rows, err := st.SearchCurrencies(f.admin, service.Query{Limit: 100, Order: []service.Order{{Field: "code"}},
				Filters: []service.Filter{{Field: "is_base", Values: []any{true}}}})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range rows {
				out = append(out, c.Code)
			}
			return out
		}
		eur, err := st.FindCurrency(f.admin, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		eur.IsBase, eur.Name = true, "Euro (base)"
		if err := st.UpdateCurrency(f.admin, eur, []string{"is_base"}); err != nil {
			t.Fatal(err)
		}
		if got := bases(); !slices.Equal(got, []string{"EUR"}) {
			t.Fatalf("bases after making EUR the base: %v", got)
		}
		if c, _ := st.FindCurrency(f.admin, "EUR"); c.Name != "Euro" || c.UpdatedAt.Before(c.CreatedAt) {
			t.Errorf("EUR after update: %+v (the unlisted name must not change)", c)
		}
		if base, err := st.BaseCurrency(f.admin); err != nil || base.Code != "EUR" {
			t.Errorf("BaseCurrency: %+v, %v", base, err)
		}

		// A new currency created as the base takes over too.
		xau := &service.Currency{Code: "XAU", Name: "Gold", Exponent: 0, IsBase: true}
		if err := st.CreateCurrency(f.admin, xau); err != nil {
			t.Fatal(err)
		}
		wantUTCMicro(t, "CreatedAt", xau.CreatedAt)
		if got := bases(); !slices.Equal(got, []string{"XAU"}) {
			t.Fatalf("bases after creating XAU as the base: %v", got)
		}
		dup := &service.Currency{Code: "XAU", Name: "Gold again", Exponent: 0}
		err = st.CreateCurrency(f.admin, dup)
		wantCode(t, err, service.CodeConflict)
		if _, ok := service.AsError(err).Fields["code"]; !ok {
			t.Errorf("duplicate code: fields %v do not name code", service.AsError(err).Fields)
		}

		// Concurrent base changes: every one succeeds, one base remains.
		codes := []string{"GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK"}
		var wg sync.WaitGroup
		errs := make(chan error, len(codes))
		for _, code := range codes {
			wg.Go(func() {
				errs <- st.InTx(f.admin, func(ctx context.Context) error {
					c, err := st.FindCurrency(ctx, code)
					if err != nil {
						return err
					}
					c.IsBase = true
					return st.UpdateCurrency(ctx, c, []string{"is_base"})
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent base change: %v", err)
			}
		}
		got := bases()
		if len(got) != 1 || !slices.Contains(codes, got[0]) {
			t.Fatalf("bases after concurrent changes: %v", got)
		}
		wantCode(t, st.UpdateCurrency(f.admin, &service.Currency{Code: "XXX", Name: "none"}, []string{"name"}), service.CodeNotFound)
		wantCode(t, st.UpdateCurrency(f.admin, eur, []string{"exponent"}), service.CodeInternal)
	})
}

func TestBaseCurrencyMissingIsNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		usd, err := st.FindCurrency(f.admin, "USD")
		if err != nil {
			t.Fatal(err)
		}
		usd.IsBase = false
		if err := st.UpdateCurrency(f.admin, usd, []string{"is_base"}); err != nil {
			t.Fatal(err)
		}
		_, err = st.BaseCurrency(f.admin)
		wantCode(t, err, service.CodeNotFound)
	})
}

func TestDeleteCurrency(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		if err := st.CreateCurrency(f.admin, &service.Currency{Code: "XTS", Name: "Testing", Exponent: 2}); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteCurrency(f.admin, "XTS"); err != nil {
			t.Fatal(err)
		}
		_, err := st.FindCurrency(f.admin, "XTS")
		wantCode(t, err, service.CodeNotFound)
		wantCode(t, st.DeleteCurrency(f.admin, "XTS"), service.CodeNotFound)

		c := newClient("in euros", nil)
		c.Currency = "EUR"
		if err := st.CreateClient(f.admin, c); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := st.CreateRate(f.admin, &service.ExchangeRate{From: "CHF", To: "SEK", Rate: rate("11.5"), EffectiveFrom: at}); err != nil {
			t.Fatal(err)
		}
		for code, owner := range map[string]string{"EUR": "a client", "CHF": "a rate (from)", "SEK": "a rate (to)"} {
			err := st.DeleteCurrency(f.admin, code)
			wantCode(t, err, service.CodeConflict)
			if want := "currency " + code + " is still used by clients or exchange rates"; service.AsError(err).Message != want {
				t.Errorf("%s used by %s: message %q, want %q", code, owner, service.AsError(err).Message, want)
			}
			if _, err := st.FindCurrency(f.admin, code); err != nil {
				t.Errorf("%s gone after a refused delete: %v", code, err)
			}
		}
	})
}

func rate(s string) service.Rate { return service.Rate{Rate: money.MustRate(s)} }

func TestExchangeRates(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		t1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		t2 := time.Date(2025, 2, 1, 12, 0, 0, 500_000_000, time.UTC) // a fraction: text comparison on SQLite
		t3 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		create := func(from, to, r string, at time.Time, reverse bool) *service.ExchangeRate {
			t.Helper()
			x := &service.ExchangeRate{From: from, To: to, Rate: rate(r), EffectiveFrom: at, Reverse: reverse}
			if err := st.CreateRate(f.admin, x); err != nil {
				t.Fatalf("create %s→%s at %v: %v", from, to, at, err)
			}
			return x
		}
		r1 := create("EUR", "USD", "1.08", t1, false)
		r2 := create("EUR", "USD", "1.0842", t2, false)
		r3 := create("EUR", "USD", "1.1", t3, false)
		rev := create("USD", "EUR", "0.922339789707", t2, true)
		create("GBP", "USD", "1.27", t2, false) // the same instant for another pair
		if r1.ID == 0 || r2.Rate.String() != "1.0842" || !r2.EffectiveFrom.Equal(t2) || rev.Rate.String() != "0.922339789707" || !rev.Reverse {
			t.Fatalf("created %+v / %+v", r2, rev)
		}
		wantUTCMicro(t, "EffectiveFrom", r1.EffectiveFrom)
		wantUTCMicro(t, "CreatedAt", r1.CreatedAt)

		// One rate per pair and instant, whatever the zone it is given in.
		dup := &service.ExchangeRate{From: "EUR", To: "USD", Rate: rate("2"), EffectiveFrom: t2.In(time.FixedZone("plus3", 3*3600))}
		err := st.CreateRate(f.admin, dup)
		wantCode(t, err, service.CodeConflict)
		e := service.AsError(err)
		if _, ok := e.Fields["effective_from"]; !ok || !strings.Contains(e.Message, "EUR→USD") {
			t.Errorf("duplicate rate: %q, fields %v", e.Message, e.Fields)
		}
		wantCode(t, st.CreateRate(f.admin, &service.ExchangeRate{From: "EUR", To: "XXX", Rate: rate("2"), EffectiveFrom: t1}),
			service.CodeConflict)

		cases := []struct {
			name string
			at   time.Time
			want *service.ExchangeRate
		}{
			{"before the first", t1.Add(-time.Nanosecond), nil},
			{"at the first", t1, r1},
			{"just before the second", t2.Add(-time.Microsecond), r1},
			{"a nanosecond before the second", t2.Add(-time.Nanosecond), r1},
			{"at the second", t2, r2},
			{"at the second, another zone", t2.In(time.FixedZone("minus5", -5*3600)), r2},
			{"between", t2.Add(24 * time.Hour), r2},
			{"at the third", t3, r3},
			{"long after", t3.AddDate(10, 0, 0), r3},
		}
		for _, tc := range cases {
			got, err := st.RateAt(f.admin, "EUR", "USD", tc.at)
			if tc.want == nil {
				wantCode(t, err, service.CodeNotFound)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got.ID != tc.want.ID || !got.Rate.Equal(tc.want.Rate.Rate) || !got.EffectiveFrom.Equal(tc.want.EffectiveFrom) {
				t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
			}
		}
		if got, err := st.RateAt(f.admin, "USD", "EUR", t3); err != nil || got.ID != rev.ID || !got.Reverse {
			t.Errorf("reverse pair: %+v, %v", got, err)
		}
		_, err = st.RateAt(f.admin, "USD", "JPY", t3)
		wantCode(t, err, service.CodeNotFound)

		list, err := st.SearchRates(f.admin, service.Query{Limit: 10,
			Order:   []service.Order{{Field: "effective_from", Desc: true}, {Field: "id"}},
			Filters: []service.Filter{{Field: "from", Values: []any{"EUR"}}, {Field: "to", Values: []any{"USD"}}}})
		if err != nil || len(list) != 3 || list[0].ID != r3.ID || list[1].ID != r2.ID || list[2].ID != r1.ID {
			t.Errorf("EUR→USD rates, latest first: %+v, %v", list, err)
		}
		list, err = st.SearchRates(f.admin, service.Query{Limit: 10, Order: []service.Order{{Field: "id"}},
			Q: "gb%", QFields: []string{"from", "to"}})
		if err != nil || len(list) != 1 || list[0].From != "GBP" {
			t.Errorf("q=gb*: %+v, %v", list, err)
		}
	})
}

// TestRatesAreExactDecimals stores rates that no float64 holds exactly.
func TestRatesAreExactDecimals(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		for i, s := range []string{"0.1", "1.000000000001", "123456789.123456789012", "0.000000000001"} {
			at := time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC)
			if err := st.CreateRate(f.admin, &service.ExchangeRate{From: "USD", To: "JPY", Rate: rate(s), EffectiveFrom: at}); err != nil {
				t.Fatal(err)
			}
			got, err := st.RateAt(f.admin, "USD", "JPY", at)
			if err != nil || got.Rate.String() != s {
				t.Errorf("rate %s stored as %v (%v)", s, got, err)
			}
		}
		wantCode(t, st.CreateRate(f.admin, &service.ExchangeRate{From: "USD", To: "JPY", EffectiveFrom: time.Now()}),
			service.CodeInvalidParams)
	})
}

func TestBillingNoPrincipalFailsClosed(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		ctx := testCtx(t, nil)
		c, a, x := b.clients["A/live"], b.accounts["A/live"], b.txs["A/live"]
		errs := map[string]error{}
		_, errs["FindClient"] = st.FindClient(ctx, c.ID)
		_, errs["SearchClients"] = st.SearchClients(ctx, all)
		_, errs["CountClients"] = st.CountClients(ctx, service.Query{})
		errs["CreateClient"] = st.CreateClient(ctx, newClient("closed", &b.A.ID))
		errs["UpdateClient"] = st.UpdateClient(ctx, c, []string{"name"})
		errs["DeleteClient"] = st.DeleteClient(ctx, c.ID)
		errs["LockClient"] = st.InTx(ctx, func(ctx context.Context) error { _, err := st.LockClient(ctx, c.ID); return err })
		errs["SetClientBalance"] = st.InTx(ctx, func(ctx context.Context) error { return st.SetClientBalance(ctx, c.ID, 5) })
		_, errs["FindAccount"] = st.FindAccount(ctx, a.ID)
		_, errs["SearchAccounts"] = st.SearchAccounts(ctx, all)
		_, errs["CountAccounts"] = st.CountAccounts(ctx, service.Query{})
		errs["CreateAccount"] = st.CreateAccount(ctx, &service.Account{ClientsID: c.ID, Name: "x", Status: "active"})
		errs["UpdateAccount"] = st.UpdateAccount(ctx, a, []string{"name"})
		errs["DeleteAccount"] = st.DeleteAccount(ctx, a.ID)
		_, errs["FindTransaction"] = st.FindTransaction(ctx, x.ID)
		_, errs["SearchTransactions"] = st.SearchTransactions(ctx, all)
		_, errs["CountTransactions"] = st.CountTransactions(ctx, service.Query{})
		errs["CreateTransaction"] = st.CreateTransaction(ctx, &service.Transaction{ClientsID: c.ID, Amount: 1, Currency: "USD", Type: "payment"})
		_, errs["FindCurrency"] = st.FindCurrency(ctx, "USD")
		_, errs["BaseCurrency"] = st.BaseCurrency(ctx)
		_, errs["SearchCurrencies"] = st.SearchCurrencies(ctx, service.Query{Limit: 5})
		errs["CreateCurrency"] = st.CreateCurrency(ctx, &service.Currency{Code: "XTS", Name: "x", IsBase: true})
		errs["UpdateCurrency"] = st.UpdateCurrency(ctx, &service.Currency{Code: "EUR", IsBase: true}, []string{"is_base"})
		errs["DeleteCurrency"] = st.DeleteCurrency(ctx, "ISK")
		_, errs["SearchRates"] = st.SearchRates(ctx, service.Query{Limit: 5})
		errs["CreateRate"] = st.CreateRate(ctx, &service.ExchangeRate{From: "EUR", To: "USD", Rate: rate("1"), EffectiveFrom: time.Now()})
		_, errs["RateAt"] = st.RateAt(ctx, "EUR", "USD", time.Now())
		_, errs["SearchAudit"] = st.SearchAudit(ctx, all)
		for method, err := range errs {
			if service.CodeOf(err) != service.CodeInternal || !errors.Is(err, service.ErrNoPrincipal) {
				t.Errorf("%s without a principal: %v, want internal wrapping ErrNoPrincipal", method, err)
			}
		}
		// Nothing was written.
		if got, err := st.FindClient(b.admin, c.ID); err != nil || got.Name != c.Name || got.Balance != 0 {
			t.Errorf("client after refused calls: %+v, %v", got, err)
		}
		if base, err := st.BaseCurrency(b.admin); err != nil || base.Code != "USD" {
			t.Errorf("base after refused calls: %+v, %v", base, err)
		}
		for _, code := range []string{"ISK", "EUR"} {
			if _, err := st.FindCurrency(b.admin, code); err != nil {
				t.Errorf("%s after refused calls: %v", code, err)
			}
		}
		if n, err := st.CountAccounts(b.admin, service.Query{}); err != nil || n != 4 {
			t.Errorf("accounts after refused calls: %d, %v", n, err)
		}
	})
}

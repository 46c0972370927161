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

func TestClientCRUD(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		meta := map[string]any{"tier": "gold", "big": int64(12345678901234567), "nested": map[string]any{"a": []any{1, "x"}}}
		c := &service.Client{Name: "Acme", Status: service.ClientActive, ResellersID: &f.A1.ID, Currency: "EUR", Credit: 5000,
			Balance: 999, Email: "billing@acme.test", Company: "Acme GmbH", Phone: "+4930123456", TaxNumber: "DE123",
			Metadata: meta, LiveMode: false}
		if err := st.CreateClient(f.onlyA, c); err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || c.Balance != 0 || !c.LiveMode || !c.CreatedAt.Equal(c.UpdatedAt) {
			t.Fatalf("created %+v: want an id, balance 0 (only the ledger moves it) and the principal's mode", c)
		}
		wantUTCMicro(t, "CreatedAt", c.CreatedAt)
		got, err := st.FindClient(f.onlyA, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Acme" || got.Status != service.ClientActive || *got.ResellersID != f.A1.ID || got.Currency != "EUR" ||
			got.Credit != 5000 || got.Balance != 0 || got.Email != c.Email || got.Company != c.Company || got.Phone != c.Phone ||
			got.TaxNumber != "DE123" || !got.LiveMode || !got.CreatedAt.Equal(c.CreatedAt) || !got.UpdatedAt.Equal(c.UpdatedAt) {
			t.Fatalf("found %+v, created %+v", got, c)
		}
		wantUTCMicro(t, "found CreatedAt", got.CreatedAt)
		if g, w := jsonText(t, got.Metadata), jsonText(t, meta); g != w {
			t.Errorf("metadata %s, want %s", g, w)
		}

		// Only the listed fields are written; balance is never one of them.
		before := *got
		got.Name, got.Credit, got.Email, got.Metadata = "Acme Inc", 0, "", map[string]any{"tier": "silver"}
		got.Status, got.Balance, got.Phone = service.ClientSuspended, 77, "+15550000000" // not listed
		if err := st.UpdateClient(f.onlyA, got, []string{"name", "credit", "email", "metadata"}); err != nil {
			t.Fatal(err)
		}
		wantUTCMicro(t, "UpdatedAt", got.UpdatedAt)
		after, err := st.FindClient(f.onlyA, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Name != "Acme Inc" || after.Credit != 0 || after.Email != "" || jsonText(t, after.Metadata) != `{"tier":"silver"}` {
			t.Errorf("listed fields not written: %+v", after)
		}
		if after.Status != before.Status || after.Balance != 0 || after.Phone != before.Phone || after.Currency != "EUR" {
			t.Errorf("unlisted fields written: %+v", after)
		}
		if !after.UpdatedAt.Equal(got.UpdatedAt) || after.UpdatedAt.Before(before.UpdatedAt) || !after.CreatedAt.Equal(before.CreatedAt) {
			t.Errorf("timestamps: before %+v after %+v", before, after)
		}
		after.Metadata = nil
		if err := st.UpdateClient(f.onlyA, after, []string{"metadata"}); err != nil {
			t.Fatal(err)
		}
		if got, err := st.FindClient(f.onlyA, c.ID); err != nil || got.Metadata != nil {
			t.Errorf("metadata cleared: %v, %v", got.Metadata, err)
		}
		wantCode(t, st.UpdateClient(f.onlyA, after, []string{"balance"}), service.CodeInternal)
		wantCode(t, st.UpdateClient(f.onlyA, after, []string{"live_mode"}), service.CodeInternal)

		// Moving stays inside the principal's subtree.
		after.ResellersID = &f.B.ID
		wantCode(t, st.UpdateClient(f.onlyA, after, []string{"resellers_id"}), service.CodeNotFound)
		after.ResellersID = nil
		wantCode(t, st.UpdateClient(f.onlyA, after, []string{"resellers_id"}), service.CodeNotFound)
		after.ResellersID = &f.A.ID
		if err := st.UpdateClient(f.onlyA, after, []string{"resellers_id"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.FindClient(f.onlyA1, c.ID); service.CodeOf(err) != service.CodeNotFound {
			t.Errorf("A1 still sees the client moved up to A: %v", err)
		}

		// An unknown currency is refused by its foreign key.
		bad := newClient("bad currency", nil)
		bad.Currency = "XXX"
		wantCode(t, st.CreateClient(f.admin, bad), service.CodeConflict)
		after.Currency = "XXX"
		wantCode(t, st.UpdateClient(f.onlyA, after, []string{"currency"}), service.CodeConflict)

		if err := st.DeleteClient(f.onlyA, c.ID); err != nil {
			t.Fatal(err)
		}
		_, err = st.FindClient(f.admin, c.ID)
		wantCode(t, err, service.CodeNotFound)
		wantCode(t, st.DeleteClient(f.admin, c.ID), service.CodeNotFound)
		wantCode(t, st.UpdateClient(f.admin, after, []string{"name"}), service.CodeNotFound)
	})
}

func TestDeleteClientCascadesAccountsAndKeepsTheLedger(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		c := mustClient(t, st, f.onlyB, "with accounts", &f.B.ID)
		a1 := mustAccount(t, st, f.onlyB, c.ID, "one")
		a2 := mustAccount(t, st, f.onlyB, c.ID, "two")
		if err := st.DeleteClient(f.onlyB, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, a := range []*service.Account{a1, a2} {
			_, err := st.FindAccount(f.admin, a.ID)
			wantCode(t, err, service.CodeNotFound)
		}

		c = mustClient(t, st, f.onlyB, "with ledger", &f.B.ID)
		mustAccount(t, st, f.onlyB, c.ID, "kept")
		mustTx(t, st, f.onlyB, c.ID, 500)
		err := st.DeleteClient(f.onlyB, c.ID)
		wantCode(t, err, service.CodeConflict)
		if want := "client " + itoa(c.ID) + " still owns transactions"; service.AsError(err).Message != want {
			t.Errorf("message %q, want %q", service.AsError(err).Message, want)
		}
		if _, err := st.FindClient(f.onlyB, c.ID); err != nil {
			t.Errorf("client gone after a refused delete: %v", err)
		}
		if n, err := st.CountAccounts(f.onlyB, service.Query{}); err != nil || n != 1 {
			t.Errorf("accounts after a refused delete: %d, %v", n, err)
		}
	})
}

func TestDeleteResellerOwningAClientIsAConflict(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		r := mustReseller(t, st, f.admin, "clients only", nil)
		c := mustClient(t, st, f.admin, "owned", &r.ID)
		err := st.DeleteReseller(f.admin, r.ID)
		wantCode(t, err, service.CodeConflict)
		if want := "reseller " + itoa(r.ID) + " still owns users, clients or resellers"; service.AsError(err).Message != want {
			t.Errorf("message %q, want %q", service.AsError(err).Message, want)
		}
		if err := st.DeleteClient(f.admin, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteReseller(f.admin, r.ID); err != nil {
			t.Fatalf("delete once empty: %v", err)
		}
	})
}

// TestBillingScopeIsolation checks every view (reseller subtree × mode) against
// every seeded client, its account and its ledger entry.
func TestBillingScopeIsolation(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		views := []struct {
			name string
			ctx  context.Context
			sees []string // keys of b.clients
		}{
			{"unrestricted live", b.admin, []string{"root/live", "A/live", "A1/live", "B/live"}},
			{"unrestricted test", b.adminTest, []string{"root/test", "A/test", "A1/test", "B/test"}},
			{"A live", b.onlyA, []string{"A/live", "A1/live"}},
			{"A1 live", b.onlyA1, []string{"A1/live"}},
			{"B live", b.onlyB, []string{"B/live"}},
			{"A test", b.testA, []string{"A/test", "A1/test"}},
			{"B test", b.testB, []string{"B/test"}},
		}
		for _, v := range views {
			t.Run(v.name, func(t *testing.T) {
				ctx := v.ctx
				var wantClients, wantAccounts, wantTxs []int64
				for k, c := range b.clients {
					visible := slices.Contains(v.sees, k)
					a, x := b.accounts[k], b.txs[k]
					_, errC := st.FindClient(ctx, c.ID)
					_, errA := st.FindAccount(ctx, a.ID)
					_, errX := st.FindTransaction(ctx, x.ID)
					errL := st.InTx(ctx, func(ctx context.Context) error { _, err := st.LockClient(ctx, c.ID); return err })
					for name, err := range map[string]error{"FindClient": errC, "FindAccount": errA, "FindTransaction": errX, "LockClient": errL} {
						if visible && err != nil {
							t.Errorf("%s(%s): %v", name, k, err)
						}
						if !visible && service.CodeOf(err) != service.CodeNotFound {
							t.Errorf("%s(%s): %v, want not found", name, k, err)
						}
					}
					if visible {
						wantClients, wantAccounts, wantTxs = append(wantClients, c.ID), append(wantAccounts, a.ID), append(wantTxs, x.ID)
						continue
					}
					changed := *c
					changed.Name = "hijacked"
					wantCode(t, st.UpdateClient(ctx, &changed, []string{"name"}), service.CodeNotFound)
					wantCode(t, st.DeleteClient(ctx, c.ID), service.CodeNotFound)
					wantCode(t, st.InTx(ctx, func(ctx context.Context) error { return st.SetClientBalance(ctx, c.ID, 1e6) }),
						service.CodeNotFound)
					wantCode(t, st.CreateAccount(ctx, &service.Account{ClientsID: c.ID, Name: "intruder", Status: "active"}),
						service.CodeNotFound)
					acc := *a
					acc.Name = "hijacked"
					wantCode(t, st.UpdateAccount(ctx, &acc, []string{"name"}), service.CodeNotFound)
					wantCode(t, st.DeleteAccount(ctx, a.ID), service.CodeNotFound)
					wantCode(t, st.CreateTransaction(ctx, &service.Transaction{ClientsID: c.ID, Amount: 1, Currency: "USD",
						Type: service.TxPayment, BalanceAfter: 1}), service.CodeNotFound)
				}
				clients, err := st.SearchClients(ctx, all)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(clients, clientID); !slices.Equal(got, sorted(wantClients...)) {
					t.Errorf("SearchClients: %v, want %v", got, sorted(wantClients...))
				}
				accounts, err := st.SearchAccounts(ctx, all)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(accounts, accountID); !slices.Equal(got, sorted(wantAccounts...)) {
					t.Errorf("SearchAccounts: %v, want %v", got, sorted(wantAccounts...))
				}
				txs, err := st.SearchTransactions(ctx, all)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(txs, transactionID); !slices.Equal(got, sorted(wantTxs...)) {
					t.Errorf("SearchTransactions: %v, want %v", got, sorted(wantTxs...))
				}
				counts := map[string]func(context.Context, service.Query) (int64, error){
					"CountClients": st.CountClients, "CountAccounts": st.CountAccounts, "CountTransactions": st.CountTransactions,
				}
				for name, count := range counts {
					if n, err := count(ctx, service.Query{}); err != nil || n != int64(len(v.sees)) {
						t.Errorf("%s: %d, %v; want %d", name, n, err, len(v.sees))
					}
				}
				// Filters naming objects out of scope cannot widen it.
				q := service.Query{Filters: []service.Filter{{Field: "resellers_id", Values: []any{b.B.ID}}}}
				n, err := st.CountClients(ctx, q)
				want := 0
				for _, k := range v.sees {
					if k == "B/live" || k == "B/test" {
						want++
					}
				}
				if err != nil || n != int64(want) {
					t.Errorf("CountClients(resellers_id=B): %d, %v; want %d", n, err, want)
				}
				root := b.clients["root/live"].ID
				q = service.Query{Filters: []service.Filter{{Field: "clients_id", Values: []any{root}}}}
				n, err = st.CountTransactions(ctx, q)
				if want := int64(0); v.name == "unrestricted live" {
					if n != 1 || err != nil {
						t.Errorf("CountTransactions(clients_id=root/live): %d, %v; want 1", n, err)
					}
				} else if n != want || err != nil {
					t.Errorf("CountTransactions(clients_id=root/live): %d, %v; want 0", n, err)
				}
			})
		}
		// Nothing was changed or deleted by the refused calls.
		for k, c := range b.clients {
			ctx := b.admin
			if !c.LiveMode {
				ctx = b.adminTest
			}
			got, err := st.FindClient(ctx, c.ID)
			if err != nil || got.Name != c.Name || got.Balance != 0 {
				t.Errorf("client %s after refused calls: %+v, %v", k, got, err)
			}
			a, err := st.FindAccount(ctx, b.accounts[k].ID)
			if err != nil || a.Name != b.accounts[k].Name {
				t.Errorf("account %s after refused calls: %+v, %v", k, a, err)
			}
			if n, err := st.CountTransactions(ctx, service.Query{Filters: []service.Filter{{Field: "clients_id", Values: []any{c.ID}}}}); err != nil || n != 1 {
				t.Errorf("transactions of %s after refused calls: %d, %v", k, n, err)
			}
		}
	})
}

func TestClientModeAndOwnerComeFromThePrincipal(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		b := seedBilling(t, st)
		// A restricted principal cannot create at the root or in another subtree.
		wantCode(t, st.CreateClient(b.onlyA, newClient("rootless", nil)), service.CodeNotFound)
		wantCode(t, st.CreateClient(b.onlyA, newClient("in B", &b.B.ID)), service.CodeNotFound)
		// A test principal creates test clients, whatever the client says.
		c := newClient("test client", &b.A.ID)
		c.LiveMode = true
		if err := st.CreateClient(b.testA, c); err != nil {
			t.Fatal(err)
		}
		if c.LiveMode {
			t.Error("a test principal created a live client")
		}
		_, err := st.FindClient(b.onlyA, c.ID)
		wantCode(t, err, service.CodeNotFound)
		// Its accounts and ledger entries are test ones too, and a test principal
		// cannot attach anything to a live client.
		a := mustAccount(t, st, b.testA, c.ID, "test account")
		x := mustTx(t, st, b.testA, c.ID, 5)
		if a.LiveMode || x.LiveMode {
			t.Errorf("children of a test client: account live=%v, transaction live=%v", a.LiveMode, x.LiveMode)
		}
		live := b.clients["A/live"]
		wantCode(t, st.CreateAccount(b.testA, &service.Account{ClientsID: live.ID, Name: "x", Status: "active"}), service.CodeNotFound)
		accounts, err := st.SearchAccounts(b.testA, service.Query{Limit: 10, Filters: []service.Filter{{Field: "clients_id", Values: []any{live.ID}}}})
		if err != nil || len(accounts) != 0 {
			t.Errorf("a test principal lists %d accounts of a live client (%v)", len(accounts), err)
		}
	})
}

// TestLockClientSerialisesBalanceUpdates is the lost-update test: concurrent
// read-modify-write transactions on one balance must all count.
func TestLockClientSerialisesBalanceUpdates(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		c := mustClient(t, st, f.onlyA, "counter", &f.A1.ID)
		const writers = 50
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				errs <- st.InTx(f.onlyA, func(ctx context.Context) error {
					cur, err := st.LockClient(ctx, c.ID)
					if err != nil {
						return err
					}
					return st.SetClientBalance(ctx, c.ID, cur.Balance+1)
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("writer: %v", err)
			}
		}
		got, err := st.FindClient(f.onlyA, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Balance != writers {
			t.Fatalf("balance %d after %d increments: updates were lost", got.Balance, writers)
		}
		if got.UpdatedAt.Before(c.UpdatedAt) || got.Name != c.Name {
			t.Errorf("after balance updates: %+v", got)
		}
		// Outside a transaction the lock would be meaningless.
		_, err = st.LockClient(f.onlyA, c.ID)
		wantCode(t, err, service.CodeInternal)
		// A rolled-back transaction leaves the balance alone.
		boom := errors.New("boom")
		err = st.InTx(f.onlyA, func(ctx context.Context) error {
			if _, err := st.LockClient(ctx, c.ID); err != nil {
				return err
			}
			if err := st.SetClientBalance(ctx, c.ID, -1); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got, err := st.FindClient(f.onlyA, c.ID); err != nil || got.Balance != writers {
			t.Errorf("balance after rollback: %d, %v", got.Balance, err)
		}
	})
}

func TestSearchClients(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		admin := testCtx(t, adminPrincipal(true))
		r := mustReseller(t, st, admin, "R", nil)
		other := mustReseller(t, st, admin, "other", nil)
		mustClient(t, st, admin, "Alpha elsewhere", &other.ID) // outside the view
		ctx := testCtx(t, restricted(r, true))
		t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		specs := []struct {
			name, email, company, status, currency string
			balance                                int64
		}{
			{"Alpha Trading", "ops@alpha.test", "Alpha GmbH", service.ClientActive, "USD", 500},
			{"Bravo_one", "x@beta.test", "", service.ClientSuspended, "EUR", -20},
			{"Charlie Ltd", "billing@beta.test", "Beta Holdings", service.ClientActive, "EUR", 0},
			{"Delta 100%", "d@delta.test", "ALPHA Partners", service.ClientArchived, "USD", 1000},
			{"Echo Solo", "", "", service.ClientActive, "JPY", 250},
		}
		byName := map[string]*service.Client{}
		for i, sp := range specs {
			c := &service.Client{Name: sp.name, Email: sp.email, Company: sp.company, Status: sp.status, Currency: sp.currency,
				ResellersID: &r.ID, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
			if err := st.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := st.InTx(ctx, func(ctx context.Context) error { return st.SetClientBalance(ctx, c.ID, sp.balance) }); err != nil {
				t.Fatal(err)
			}
			byName[sp.name] = c
		}
		names := func(cs []*service.Client) []string {
			out := make([]string, len(cs))
			for i, c := range cs {
				out[i] = c.Name
			}
			return out
		}
		at := func(h int) *time.Time { v := t0.Add(time.Duration(h) * time.Hour); return &v }
		byID := []service.Order{{Field: "id"}}
		then := func(o ...service.Order) []service.Order { return append(o, service.Order{Field: "id"}) }
		allFields := []string{"name", "email", "company", "phone", "tax_number"}
		cases := []struct {
			name string
			q    service.Query
			want []string
		}{
			{"all by id", service.Query{Limit: 20, Order: byID},
				[]string{"Alpha Trading", "Bravo_one", "Charlie Ltd", "Delta 100%", "Echo Solo"}},
			{"status", service.Query{Limit: 20, Order: byID, Filters: []service.Filter{{Field: "status", Values: []any{"active"}}}},
				[]string{"Alpha Trading", "Charlie Ltd", "Echo Solo"}},
			{"currency", service.Query{Limit: 20, Order: byID, Filters: []service.Filter{{Field: "currency", Values: []any{"EUR", "JPY"}}}},
				[]string{"Bravo_one", "Charlie Ltd", "Echo Solo"}},
			{"email", service.Query{Limit: 20, Order: byID, Filters: []service.Filter{{Field: "email", Values: []any{"billing@beta.test"}}}},
				[]string{"Charlie Ltd"}},
			{"id and status", service.Query{Limit: 20, Order: byID, Filters: []service.Filter{
				{Field: "id", Values: []any{byName["Alpha Trading"].ID, byName["Bravo_one"].ID}},
				{Field: "status", Values: []any{"active", "suspended"}}}},
				[]string{"Alpha Trading", "Bravo_one"}},
			{"resellers_id", service.Query{Limit: 20, Order: byID, Filters: []service.Filter{{Field: "resellers_id", Values: []any{other.ID}}}},
				[]string{}},
			{"name descending", service.Query{Limit: 20, Order: then(service.Order{Field: "name", Desc: true})},
				[]string{"Echo Solo", "Delta 100%", "Charlie Ltd", "Bravo_one", "Alpha Trading"}},
			{"balance descending", service.Query{Limit: 20, Order: then(service.Order{Field: "balance", Desc: true})},
				[]string{"Delta 100%", "Alpha Trading", "Echo Solo", "Charlie Ltd", "Bravo_one"}},
			{"balance ascending, limit+1", service.Query{Limit: 2, Order: then(service.Order{Field: "balance"})},
				[]string{"Bravo_one", "Charlie Ltd", "Echo Solo"}},
			{"created_at descending, offset", service.Query{Limit: 2, Offset: 1, Order: then(service.Order{Field: "created_at", Desc: true})},
				[]string{"Delta 100%", "Charlie Ltd", "Bravo_one"}},
			{"q in every field", service.Query{Limit: 20, Order: byID, Q: "%alpha%", QFields: allFields},
				[]string{"Alpha Trading", "Delta 100%"}},
			{"q in name only", service.Query{Limit: 20, Order: byID, Q: "%alpha%", QFields: []string{"name"}},
				[]string{"Alpha Trading"}},
			{"q in email", service.Query{Limit: 20, Order: byID, Q: "%@beta.test", QFields: []string{"email"}},
				[]string{"Bravo_one", "Charlie Ltd"}},
			{"q prefix", service.Query{Limit: 20, Order: byID, Q: "beta%", QFields: allFields},
				[]string{"Charlie Ltd"}},
			{"q escapes _", service.Query{Limit: 20, Order: byID, Q: `%o\_o%`, QFields: allFields},
				[]string{"Bravo_one"}},
			{"q without escape", service.Query{Limit: 20, Order: byID, Q: `%o_o%`, QFields: allFields},
				[]string{"Bravo_one", "Echo Solo"}},
			{"q escapes %", service.Query{Limit: 20, Order: byID, Q: `%100\%%`, QFields: allFields},
				[]string{"Delta 100%"}},
			{"created range", service.Query{Limit: 20, Order: byID, CreatedFrom: at(1), CreatedTo: at(3)},
				[]string{"Bravo_one", "Charlie Ltd"}},
			{"everything at once", service.Query{Limit: 1, Order: then(service.Order{Field: "name", Desc: true}),
				Filters: []service.Filter{{Field: "status", Values: []any{"active"}}},
				Q:       "%a%", QFields: allFields, CreatedFrom: at(0), CreatedTo: at(5)},
				[]string{"Charlie Ltd", "Alpha Trading"}},
		}
		for _, tc := range cases {
			got, err := st.SearchClients(ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !slices.Equal(names(got), tc.want) {
				t.Errorf("%s: %q, want %q", tc.name, names(got), tc.want)
			}
			n, err := st.CountClients(ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: count: %v", tc.name, err)
			}
			tc.q.Limit, tc.q.Offset = 0, 0
			every, err := st.SearchClients(ctx, tc.q)
			if err != nil || n != int64(len(every)) {
				t.Errorf("%s: count %d, %d rows without limit (%v)", tc.name, n, len(every), err)
			}
		}
		// The unrestricted view also sees the client of the other reseller.
		n, err := st.CountClients(admin, service.Query{Q: "%alpha%", QFields: allFields})
		if err != nil || n != 3 {
			t.Errorf("unrestricted count of q=alpha: %d, %v; want 3", n, err)
		}
	})
}

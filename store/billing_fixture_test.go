package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

// billing extends the IAM fixture with one client per owner (the root, A, A1,
// B) and mode, each with one account and one ledger entry, and test-mode
// principals restricted to A and to B.
type billing struct {
	*fixture
	testA, testB context.Context // restricted to a subtree, test mode

	clients  map[string]*service.Client // "<owner>/<mode>"
	accounts map[string]*service.Account
	txs      map[string]*service.Transaction
}

var (
	owners = []string{"root", "A", "A1", "B"}
	modes  = []string{service.ModeLive, service.ModeTest}
)

func seedBilling(t *testing.T, st *store.Store) *billing {
	t.Helper()
	f := seed(t, st)
	b := &billing{fixture: f, clients: map[string]*service.Client{}, accounts: map[string]*service.Account{},
		txs: map[string]*service.Transaction{}}
	b.testA = testCtx(t, restricted(f.A, false))
	b.testB = testCtx(t, restricted(f.B, false))
	for _, owner := range owners {
		for _, mode := range modes {
			ctx := f.admin
			if mode == service.ModeTest {
				ctx = f.adminTest
			}
			k := owner + "/" + mode
			c := mustClient(t, st, ctx, "client-"+owner+"-"+mode, b.owner(owner))
			b.clients[k] = c
			b.accounts[k] = mustAccount(t, st, ctx, c.ID, "account-"+owner+"-"+mode)
			b.txs[k] = mustTx(t, st, ctx, c.ID, 100)
		}
	}
	return b
}

// owner returns the reseller id of an owner name (nil for the root).
func (b *billing) owner(name string) *int64 {
	switch name {
	case "A":
		return &b.A.ID
	case "A1":
		return &b.A1.ID
	case "B":
		return &b.B.ID
	}
	return nil
}

func newClient(name string, reseller *int64) *service.Client {
	return &service.Client{Name: name, Status: service.ClientActive, ResellersID: reseller, Currency: "USD"}
}

func mustClient(t *testing.T, st *store.Store, ctx context.Context, name string, reseller *int64) *service.Client {
	t.Helper()
	c := newClient(name, reseller)
	if err := st.CreateClient(ctx, c); err != nil {
		t.Fatalf("create client %s: %v", name, err)
	}
	return c
}

func mustAccount(t *testing.T, st *store.Store, ctx context.Context, clientID int64, name string) *service.Account {
	t.Helper()
	a := &service.Account{ClientsID: clientID, Name: name, Status: service.ClientActive}
	if err := st.CreateAccount(ctx, a); err != nil {
		t.Fatalf("create account %s: %v", name, err)
	}
	return a
}

// mustTx appends a ledger entry of amount (USD) for the client; it does not
// move the balance.
func mustTx(t *testing.T, st *store.Store, ctx context.Context, clientID, amount int64) *service.Transaction {
	t.Helper()
	typ := service.TxPayment
	if amount < 0 {
		typ = service.TxCharge
	}
	tx := &service.Transaction{ClientsID: clientID, Amount: amount, Currency: "USD", Type: typ, BalanceAfter: amount}
	if err := st.CreateTransaction(ctx, tx); err != nil {
		t.Fatalf("create transaction for client %d: %v", clientID, err)
	}
	return tx
}

func clientID(c *service.Client) int64           { return c.ID }
func accountID(a *service.Account) int64         { return a.ID }
func transactionID(x *service.Transaction) int64 { return x.ID }

// jsonText renders v as JSON (maps with sorted keys), to compare decoded JSON.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

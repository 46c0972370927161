package service

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/billgate/billgate/pkg/money"
)

// Transaction types.
const (
	TxPayment    = "payment"
	TxCharge     = "charge"
	TxAdjustment = "adjustment"
	TxRefund     = "refund"
)

var txTypes = []string{TxPayment, TxCharge, TxAdjustment, TxRefund}

// Transaction is an entry of the append-only ledger. Amount is in the client's
// currency (minor units): positive credits the client, negative debits it.
type Transaction struct {
	ID           int64  `json:"id"`
	ClientsID    int64  `json:"clients_id"`
	Amount       int64  `json:"amount"`
	Currency     string `json:"currency"`
	Type         string `json:"type" enum:"payment,charge,adjustment,refund"`
	Notes        string `json:"notes"`
	BalanceAfter int64  `json:"balance_after"`
	// OriginalAmount/OriginalCurrency/Rate record a conversion from the
	// currency the movement was given in.
	OriginalAmount   *int64    `json:"original_amount"`
	OriginalCurrency *string   `json:"original_currency"`
	Rate             *Rate     `json:"rate"`
	UsersID          *int64    `json:"users_id"`
	APIKeysID        *int64    `json:"api_keys_id"`
	LiveMode         bool      `json:"live_mode"`
	CreatedAt        time.Time `json:"created_at"`
}

// TransactionFilter are the typed filters of accounting.transactions.search and .count.
type TransactionFilter struct {
	ID        IDs     `json:"id" filter:"id"`
	ClientsID IDs     `json:"clients_id" filter:"clients_id"`
	Type      Strings `json:"type" filter:"type"`
	Currency  Strings `json:"currency" filter:"currency"`
}

// TransactionSearch are the params of accounting.transactions.search.
type TransactionSearch struct {
	ListParams
	TransactionFilter
}

// TransactionCount are the params of accounting.transactions.count.
type TransactionCount struct {
	FilterParams
	TransactionFilter
}

var transactionList = ListSpec{Sort: []string{"id", "created_at", "amount"}, Search: []string{"notes"}}

// TransactionCreate are the params of accounting.transactions.create and
// create_no_negative.
type TransactionCreate struct {
	ClientsID int64  `json:"clients_id" required:"true"`
	Amount    int64  `json:"amount" required:"true" doc:"minor units of currency; positive credits, negative debits"`
	Type      string `json:"type" required:"true" enum:"payment,charge,adjustment,refund" doc:"payment must be positive, charge negative"`
	Notes     string `json:"notes"`
	Currency  string `json:"currency" doc:"default: the client's currency; another one is converted at the rate in force now"`
}

// Validate checks amount, type and notes.
func (p *TransactionCreate) Validate() error {
	v := Validation{}
	p.Currency = strings.ToUpper(p.Currency)
	v.Check(p.Amount != 0, "amount", "must not be zero")
	v.Check(p.Amount != math.MinInt64, "amount", "out of range")
	v.Check(slices.Contains(txTypes, p.Type), "type", "must be one of payment, charge, adjustment, refund")
	if p.Type == TxPayment {
		v.Check(p.Amount > 0, "amount", "must be positive for a payment")
	}
	if p.Type == TxCharge {
		v.Check(p.Amount < 0, "amount", "must be negative for a charge")
	}
	v.Check(len(p.Notes) <= 1000, "notes", "must be at most 1000 characters")
	v.Check(p.Currency == "" || currencyRe.MatchString(p.Currency), "currency", "must be a 3-letter ISO 4217 code")
	return v.Err()
}

func (s *Service) registerLedger() {
	r := s.registry
	Register(r, Decl[TransactionSearch, *Page[*Transaction]]{
		Name: "accounting.transactions.search", Summary: "List ledger transactions.",
		HTTP: Route{Verb: "GET", Path: "/accounting/transactions"},
		Do: func(ctx context.Context, p *TransactionSearch) (*Page[*Transaction], error) {
			q, err := BuildQuery(transactionList, p.FilterParams, &p.ListParams, &p.TransactionFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchTransactions(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[TransactionCount, *Count]{
		Name: "accounting.transactions.count", Summary: "Count ledger transactions.",
		HTTP: Route{Verb: "GET", Path: "/accounting/transactions/count"},
		Do: func(ctx context.Context, p *TransactionCount) (*Count, error) {
			q, err := BuildQuery(transactionList, p.FilterParams, nil, &p.TransactionFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountTransactions(ctx, q)
			return &Count{Count: n}, err
		},
	})
	Register(r, Decl[IDParams, *Transaction]{
		Name: "accounting.transactions.get", Summary: "Get a ledger transaction.",
		HTTP: Route{Verb: "GET", Path: "/accounting/transactions/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Transaction, error) {
			return s.store.FindTransaction(ctx, p.ID)
		},
	})
	Register(r, Decl[TransactionCreate, *Transaction]{
		Name: "accounting.transactions.create", Summary: "Post a money movement to a client's balance.",
		HTTP: Route{Verb: "POST", Path: "/accounting/transactions", Created: true}, Idempotent: true,
		Do: func(ctx context.Context, p *TransactionCreate) (*Transaction, error) {
			return s.PostTransaction(ctx, p, false)
		},
	})
	Register(r, Decl[TransactionCreate, *Transaction]{
		Name: "accounting.transactions.create_no_negative", Summary: "Post a money movement unless it would take balance + credit below zero (low_balance).",
		HTTP: Route{Verb: "POST", Path: "/accounting/transactions/prepaid", Created: true}, Idempotent: true,
		Do: func(ctx context.Context, p *TransactionCreate) (*Transaction, error) {
			return s.PostTransaction(ctx, p, true)
		},
	})
}

// PostTransaction appends a transaction and moves the client's balance in one
// database transaction, holding the client's row lock so concurrent movements
// never lose an update. With noNegative, a movement that would take balance +
// credit below zero is refused (unprocessable, reason low_balance). Errors:
// not_found (client), invalid_params, unprocessable, unavailable.
func (s *Service) PostTransaction(ctx context.Context, p *TransactionCreate, noNegative bool) (*Transaction, error) {
	var t *Transaction
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.LockClient(ctx, p.ClientsID)
		if err != nil {
			return err
		}
		t = &Transaction{ClientsID: c.ID, Amount: p.Amount, Currency: c.Currency, Type: p.Type, Notes: p.Notes, LiveMode: c.LiveMode}
		if p.Currency != "" && p.Currency != c.Currency {
			if err := s.convert(ctx, t, p.Currency); err != nil {
				return err
			}
		}
		bal := c.Balance + t.Amount
		if (t.Amount > 0 && bal < c.Balance) || (t.Amount < 0 && bal > c.Balance) {
			return Unprocessable("balance_overflow", "the balance of client %d would overflow", c.ID)
		}
		if noNegative && t.Amount < 0 && bal+c.Credit < 0 {
			return Unprocessable("low_balance", "low balance: client %d has %d available (balance %d + credit %d), the movement needs %d",
				c.ID, c.Balance+c.Credit, c.Balance, c.Credit, -t.Amount)
		}
		t.BalanceAfter = bal
		pr := PrincipalFrom(ctx)
		if pr.UserID != 0 {
			uid := pr.UserID
			t.UsersID = &uid
		}
		if pr.KeyID != 0 {
			kid := pr.KeyID
			t.APIKeysID = &kid
		}
		if err := s.store.CreateTransaction(ctx, t); err != nil {
			return err
		}
		if err := s.store.SetClientBalance(ctx, c.ID, bal); err != nil {
			return err
		}
		return s.audit(ctx, "transaction", t.ID, "create", c.ResellersID, map[string]any{
			"object": t, "balance": Change{From: c.Balance, To: bal}})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// convert rewrites t.Amount, given in currency from, into the client's
// currency at the rate in force now, and records the original and the rate.
func (s *Service) convert(ctx context.Context, t *Transaction, from string) error {
	src, err := s.currencyOrBase(ctx, from)
	if err != nil {
		return err
	}
	dst, err := s.store.FindCurrency(ctx, t.Currency)
	if err != nil {
		return err
	}
	q, err := s.quote(ctx, src.Code, dst.Code, s.clock.Now())
	if err != nil {
		if CodeOf(err) == CodeNotFound {
			return Unprocessable("no_rate", "no exchange rate from %s to %s", src.Code, dst.Code)
		}
		return err
	}
	amount, err := money.Convert(t.Amount, src.Exponent, dst.Exponent, q.Rate.Rate)
	if err != nil {
		return InvalidField("amount", "out of range after conversion")
	}
	if amount == 0 {
		return InvalidField("amount", "converts to zero "+dst.Code)
	}
	orig, cur, rate := t.Amount, src.Code, q.Rate
	t.Amount, t.OriginalAmount, t.OriginalCurrency, t.Rate = amount, &orig, &cur, &rate
	return nil
}

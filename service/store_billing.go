package service

import (
	"context"
	"time"
)

// ClientStore keeps clients, scoped by reseller subtree and mode.
type ClientStore interface {
	FindClient(ctx context.Context, id int64) (*Client, error)
	// FindClients is FindClient for many ids in one query: one element per id,
	// nil where FindClient would be not found.
	FindClients(ctx context.Context, ids []int64) ([]*Client, error)
	SearchClients(ctx context.Context, q Query) ([]*Client, error)
	CountClients(ctx context.Context, q Query) (int64, error)
	CreateClient(ctx context.Context, c *Client) error
	UpdateClient(ctx context.Context, c *Client, fields []string) error
	DeleteClient(ctx context.Context, id int64) error
	// LockClient returns the client with its row locked until the transaction
	// in ctx ends (SELECT … FOR UPDATE on PostgreSQL); call it inside InTx.
	LockClient(ctx context.Context, id int64) (*Client, error)
	// SetClientBalance writes the balance (only the ledger calls it).
	SetClientBalance(ctx context.Context, id int64, balance int64) error
}

// AccountStore keeps client accounts, scoped through their client.
type AccountStore interface {
	FindAccount(ctx context.Context, id int64) (*Account, error)
	SearchAccounts(ctx context.Context, q Query) ([]*Account, error)
	CountAccounts(ctx context.Context, q Query) (int64, error)
	CreateAccount(ctx context.Context, a *Account) error
	UpdateAccount(ctx context.Context, a *Account, fields []string) error
	DeleteAccount(ctx context.Context, id int64) error
}

// CurrencyStore keeps currencies and exchange rates (global: not scoped).
type CurrencyStore interface {
	FindCurrency(ctx context.Context, code string) (*Currency, error)
	BaseCurrency(ctx context.Context) (*Currency, error)
	SearchCurrencies(ctx context.Context, q Query) ([]*Currency, error)
	CreateCurrency(ctx context.Context, c *Currency) error
	// UpdateCurrency writes the named fields; is_base=true clears the previous base.
	UpdateCurrency(ctx context.Context, c *Currency, fields []string) error
	// DeleteCurrency refuses (conflict) a currency still used by clients or rates.
	DeleteCurrency(ctx context.Context, code string) error
	SearchRates(ctx context.Context, q Query) ([]*ExchangeRate, error)
	// CreateRate stores a rate; a second rate for the same pair and effective_from is a conflict.
	CreateRate(ctx context.Context, r *ExchangeRate) error
	// RateAt returns the stored from→to rate with the latest effective_from ≤ at.
	RateAt(ctx context.Context, from, to string, at time.Time) (*ExchangeRate, error)
}

// TransactionStore keeps the ledger, scoped through the client and by mode.
type TransactionStore interface {
	FindTransaction(ctx context.Context, id int64) (*Transaction, error)
	SearchTransactions(ctx context.Context, q Query) ([]*Transaction, error)
	CountTransactions(ctx context.Context, q Query) (int64, error)
	CreateTransaction(ctx context.Context, t *Transaction) error
}

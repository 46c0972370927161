package store

import (
	"context"
	"fmt"
	"time"

	"github.com/billgate/billgate/pkg/money"
	"github.com/billgate/billgate/service"
)

// transactionRow is a row of transactions (the ledger).
type transactionRow struct {
	ID               int64     `gorm:"column:id;primaryKey"`
	ClientsID        int64     `gorm:"column:clients_id"`
	Amount           int64     `gorm:"column:amount"`
	Currency         string    `gorm:"column:currency"`
	Type             string    `gorm:"column:type"`
	Notes            string    `gorm:"column:notes"`
	BalanceAfter     int64     `gorm:"column:balance_after"`
	OriginalAmount   *int64    `gorm:"column:original_amount"`
	OriginalCurrency *string   `gorm:"column:original_currency"`
	Rate             *string   `gorm:"column:rate"`
	UsersID          *int64    `gorm:"column:users_id"`
	APIKeysID        *int64    `gorm:"column:api_keys_id"`
	LiveMode         bool      `gorm:"column:live_mode"`
	CreatedAt        time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

// TableName tells gorm the table of transactionRow.
func (transactionRow) TableName() string { return "transactions" }

// transactionsTable: ledger entries are scoped through their client (reseller
// subtree and mode) and carry the mode themselves. Append-only: the store has
// no update or delete for them.
var transactionsTable = &table{
	name: "transactions", noun: "transaction",
	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{
		"id": "id", "clients_id": "clients_id", "amount": "amount", "currency": "currency", "type": "type",
		"notes": "notes", "created_at": "created_at",
	},
}

func (r *transactionRow) toService() (*service.Transaction, error) {
	t := &service.Transaction{
		ID: r.ID, ClientsID: r.ClientsID, Amount: r.Amount, Currency: r.Currency, Type: r.Type, Notes: r.Notes,
		BalanceAfter: r.BalanceAfter, OriginalAmount: r.OriginalAmount, OriginalCurrency: r.OriginalCurrency,
		UsersID: r.UsersID, APIKeysID: r.APIKeysID, LiveMode: r.LiveMode, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.Rate != nil {
		rate, err := money.ParseRate(*r.Rate)
		if err != nil {
			return nil, service.Internal(fmt.Errorf("transaction %d: %w", r.ID, err))
		}
		t.Rate = &service.Rate{Rate: rate}
	}
	return t, nil
}

// FindTransaction returns transaction id if the principal may see its client.
// Errors: CodeNotFound (missing or out of scope), CodeUnavailable, CodeInternal.
func (s *Store) FindTransaction(ctx context.Context, id int64) (*service.Transaction, error) {
	row, err := findRow[transactionRow](ctx, s.conn(ctx), transactionsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService()
}

// SearchTransactions lists the transactions in scope matching q (up to
// q.Limit+1). Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchTransactions(ctx context.Context, q service.Query) ([]*service.Transaction, error) {
	rows, err := searchRows[transactionRow](ctx, s.conn(ctx), transactionsTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Transaction, len(rows))
	for i := range rows {
		if out[i], err = rows[i].toService(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CountTransactions counts the transactions in scope matching q. Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) CountTransactions(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), transactionsTable, q)
}

// CreateTransaction appends t for a client in the principal's scope, in the
// principal's mode, and sets its ID, LiveMode and CreatedAt (now, when zero). It
// does not move the balance: the ledger does that with LockClient and
// SetClientBalance in the same transaction. Errors: CodeNotFound (client
// missing or out of scope), CodeUnavailable, CodeInternal.
func (s *Store) CreateTransaction(ctx context.Context, t *service.Transaction) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		p, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindClient(ctx, t.ClientsID); err != nil {
			return err
		}
		row := transactionRow{
			ClientsID: t.ClientsID, Amount: t.Amount, Currency: t.Currency, Type: t.Type, Notes: t.Notes,
			BalanceAfter: t.BalanceAfter, OriginalAmount: t.OriginalAmount, OriginalCurrency: t.OriginalCurrency,
			UsersID: t.UsersID, APIKeysID: t.APIKeysID, LiveMode: p.Live, CreatedAt: dbTime(t.CreatedAt),
		}
		if t.Rate != nil {
			if t.Rate.IsZero() {
				return service.InvalidField("rate", "must be a positive decimal")
			}
			rate := t.Rate.String()
			row.Rate = &rate
		}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("transaction", nil))
		}
		out, err := row.toService()
		if err != nil {
			return err
		}
		*t = *out
		return nil
	})
}

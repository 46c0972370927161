package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm/clause"

	"github.com/billgate/billgate/service"
)

// clientRow is a row of clients.
type clientRow struct {
	ID          int64      `gorm:"column:id;primaryKey"`
	Name        string     `gorm:"column:name"`
	Status      string     `gorm:"column:status"`
	ResellersID *int64     `gorm:"column:resellers_id"`
	Currency    string     `gorm:"column:currency"`
	Credit      int64      `gorm:"column:credit"`
	Balance     int64      `gorm:"column:balance"`
	Email       string     `gorm:"column:email"`
	Company     string     `gorm:"column:company"`
	Phone       string     `gorm:"column:phone"`
	TaxNumber   string     `gorm:"column:tax_number"`
	Metadata    jsonObject `gorm:"column:metadata"`
	ClientBillingColumns
	LiveMode  bool      `gorm:"column:live_mode"`
	CreatedAt time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of clientRow.
func (clientRow) TableName() string { return "clients" }

// clientsTable: clients belong to a reseller (NULL: the root, seen only by
// unrestricted principals) and to a mode.
var clientsTable = &table{
	name: "clients", noun: "client",
	scope: scopeSpec{resellerColumn: "resellers_id", liveMode: true},
	fields: map[string]string{
		"id": "id", "name": "name", "status": "status", "resellers_id": "resellers_id", "currency": "currency",
		"credit": "credit", "balance": "balance", "email": "email", "company": "company", "phone": "phone",
		"tax_number": "tax_number", "created_at": "created_at", "updated_at": "updated_at",
	},
}

// clientWritable maps the fields UpdateClient may write to their columns. The
// balance is not among them: only the ledger writes it (SetClientBalance).
var clientWritable = map[string]string{
	"name": "name", "status": "status", "resellers_id": "resellers_id", "currency": "currency", "credit": "credit",
	"email": "email", "company": "company", "phone": "phone", "tax_number": "tax_number", "metadata": "metadata",
	"standard_tax_rate": "standard_tax_rate", "digital_tax_rate": "digital_tax_rate", "type": "type",
	"billing_type": "billing_type", "locale": "locale", "invoice_format": "invoice_format",
	"marketing_opt_in": "marketing_opt_in", "timezone": "timezone",
}

func clientRowOf(c *service.Client) clientRow {
	return clientRow{
		ID: c.ID, Name: c.Name, Status: c.Status, ResellersID: c.ResellersID, Currency: c.Currency, Credit: c.Credit,
		Balance: c.Balance, Email: c.Email, Company: c.Company, Phone: c.Phone, TaxNumber: c.TaxNumber,
		Metadata: jsonObject(c.Metadata), ClientBillingColumns: billingColumnsOf(&c.ClientBillingSettings),
		LiveMode: c.LiveMode, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func (r *clientRow) toService() *service.Client {
	return &service.Client{
		ID: r.ID, Name: r.Name, Status: r.Status, ResellersID: r.ResellersID, Currency: r.Currency, Credit: r.Credit,
		Balance: r.Balance, Email: r.Email, Company: r.Company, Phone: r.Phone, TaxNumber: r.TaxNumber,
		Metadata: map[string]any(r.Metadata), ClientBillingSettings: r.ClientBillingColumns.toService(), LiveMode: r.LiveMode,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// FindClient returns client id from the principal's scope (reseller subtree and
// mode). Errors: CodeNotFound (missing or out of scope), CodeUnavailable,
// CodeInternal.
func (s *Store) FindClient(ctx context.Context, id int64) (*service.Client, error) {
	row, err := findRow[clientRow](ctx, s.conn(ctx), clientsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// FindClients loads the clients with the given ids in the principal's scope in
// one query: the result has one element per id, in order, a client of its own
// for each (ids may repeat), and nil where FindClient would say not found.
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) FindClients(ctx context.Context, ids []int64) ([]*service.Client, error) {
	found, err := findRows(ctx, s.conn(ctx), clientsTable, ids, func(r *clientRow) int64 { return r.ID })
	if err != nil {
		return nil, err
	}
	out := make([]*service.Client, len(ids))
	for i, id := range ids {
		if row := found[id]; row != nil {
			out[i] = row.toService()
		}
	}
	return out, nil
}

// SearchClients lists the clients in scope matching q (up to q.Limit+1).
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchClients(ctx context.Context, q service.Query) ([]*service.Client, error) {
	rows, err := searchRows[clientRow](ctx, s.conn(ctx), clientsTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Client, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CountClients counts the clients in scope matching q. Errors: CodeUnavailable,
// CodeInternal.
func (s *Store) CountClients(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), clientsTable, q)
}

// CreateClient stores c under c.ResellersID in the principal's mode and sets its
// ID, LiveMode, timestamps (now, when zero) and Balance (0: only the ledger
// moves it). Errors: CodeNotFound (reseller missing or out of scope; the root
// for a restricted principal), CodeConflict (unknown currency), CodeUnavailable,
// CodeInternal.
func (s *Store) CreateClient(ctx context.Context, c *service.Client) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		p, err := principal(ctx)
		if err != nil {
			return err
		}
		if err := s.checkOwner(ctx, c.ResellersID); err != nil {
			return err
		}
		row := clientRowOf(c)
		row.ID, row.Balance, row.LiveMode = 0, 0, p.Live
		row.CreatedAt = dbTime(c.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if !c.UpdatedAt.IsZero() {
			row.UpdatedAt = dbTime(c.UpdatedAt)
		}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("client", nil))
		}
		*c = *row.toService()
		return nil
	})
}

// UpdateClient writes the named json fields of c and updated_at (now). Errors:
// CodeNotFound (c or a new reseller missing or out of scope), CodeConflict
// (unknown currency), CodeUnavailable, CodeInternal (a field that cannot be
// written, such as balance).
func (s *Store) UpdateClient(ctx context.Context, c *service.Client, fields []string) error {
	cols, err := columnsOf(clientsTable, clientWritable, fields)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if slices.Contains(fields, "resellers_id") {
			if err := s.checkOwner(ctx, c.ResellersID); err != nil {
				return err
			}
		}
		row := clientRowOf(c)
		row.UpdatedAt = now()
		if err := updateRow(ctx, s.wconn(ctx), clientsTable, c.ID, &row, cols); err != nil {
			return err
		}
		c.UpdatedAt = row.UpdatedAt
		return nil
	})
}

// DeleteClient deletes client id from the principal's scope, with its accounts.
// Errors: CodeNotFound, CodeConflict ("client N still owns transactions": the
// ledger keeps its client), CodeUnavailable, CodeInternal.
func (s *Store) DeleteClient(ctx context.Context, id int64) error {
	return deleteRow[clientRow](ctx, s.wconn(ctx), clientsTable, id,
		subject{what: "client", id: id, owns: "transactions"})
}

// errNoTx is the cause of a lock taken outside a transaction.
var errNoTx = errors.New("store: LockClient called outside InTx: the lock would end with the statement")

// LockClient returns client id from the principal's scope with its row locked
// until the transaction of ctx ends: SELECT … FOR UPDATE on PostgreSQL; on SQLite
// the transaction holds the database write lock from its start already. Call it
// inside InTx (outside one it is CodeInternal). Errors: CodeNotFound,
// CodeUnavailable, CodeInternal.
func (s *Store) LockClient(ctx context.Context, id int64) (*service.Client, error) {
	if s.txFrom(ctx) == nil {
		return nil, service.Internal(errNoTx)
	}
	db := s.wconn(ctx)
	if s.dialect == DialectPostgres {
		db = db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	row, err := findRow[clientRow](ctx, db, clientsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SetClientBalance writes the balance (and updated_at) of client id in the
// principal's scope; only the ledger calls it, after LockClient in the same
// transaction. Errors: CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) SetClientBalance(ctx context.Context, id int64, balance int64) error {
	row := clientRow{Balance: balance, UpdatedAt: now()}
	return updateRow(ctx, s.wconn(ctx), clientsTable, id, &row, []string{"balance", "updated_at"})
}

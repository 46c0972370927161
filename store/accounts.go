package store

import (
	"context"
	"time"

	"github.com/billgate/billgate/service"
)

// accountRow is a row of client_accounts.
type accountRow struct {
	ID        int64       `gorm:"column:id;primaryKey"`
	ClientsID int64       `gorm:"column:clients_id"`
	Name      string      `gorm:"column:name"`
	Status    string      `gorm:"column:status"`
	IPs       jsonStrings `gorm:"column:ips"`
	Metadata  jsonObject  `gorm:"column:metadata"`
	LiveMode  bool        `gorm:"column:live_mode"`
	CreatedAt time.Time   `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt time.Time   `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of accountRow.
func (accountRow) TableName() string { return "client_accounts" }

// accountsTable: accounts are scoped through their client (reseller subtree
// and mode) and carry the client's mode themselves.
var accountsTable = &table{
	name: "client_accounts", noun: "account",
	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{
		"id": "id", "clients_id": "clients_id", "name": "name", "status": "status",
		"created_at": "created_at", "updated_at": "updated_at",
	},
}

// accountWritable maps the fields UpdateAccount may write to their columns (an
// account never changes client).
var accountWritable = map[string]string{"name": "name", "status": "status", "ips": "ips", "metadata": "metadata"}

func accountRowOf(a *service.Account) accountRow {
	return accountRow{
		ID: a.ID, ClientsID: a.ClientsID, Name: a.Name, Status: a.Status, IPs: jsonStrings(a.IPs),
		Metadata: jsonObject(a.Metadata), LiveMode: a.LiveMode, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
}

func (r *accountRow) toService() *service.Account {
	return &service.Account{
		ID: r.ID, ClientsID: r.ClientsID, Name: r.Name, Status: r.Status, IPs: stringsOrEmpty(r.IPs),
		Metadata: map[string]any(r.Metadata), LiveMode: r.LiveMode,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// FindAccount returns account id if the principal may see its client. Errors:
// CodeNotFound (missing or out of scope), CodeUnavailable, CodeInternal.
func (s *Store) FindAccount(ctx context.Context, id int64) (*service.Account, error) {
	row, err := findRow[accountRow](ctx, s.conn(ctx), accountsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SearchAccounts lists the accounts in scope matching q (up to q.Limit+1).
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchAccounts(ctx context.Context, q service.Query) ([]*service.Account, error) {
	rows, err := searchRows[accountRow](ctx, s.conn(ctx), accountsTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Account, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CountAccounts counts the accounts in scope matching q. Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) CountAccounts(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), accountsTable, q)
}

// CreateAccount stores a for a client in the principal's scope, in the
// principal's mode (the client's), and sets its ID, LiveMode and timestamps
// (now, when zero). Errors: CodeNotFound (client missing or out of scope),
// CodeUnavailable, CodeInternal.
func (s *Store) CreateAccount(ctx context.Context, a *service.Account) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		p, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindClient(ctx, a.ClientsID); err != nil {
			return err
		}
		row := accountRowOf(a)
		row.ID, row.LiveMode = 0, p.Live
		row.CreatedAt = dbTime(a.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if !a.UpdatedAt.IsZero() {
			row.UpdatedAt = dbTime(a.UpdatedAt)
		}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("account", nil))
		}
		*a = *row.toService()
		return nil
	})
}

// UpdateAccount writes the named json fields of a and updated_at (now). Errors:
// CodeNotFound, CodeUnavailable, CodeInternal (a field that cannot be written).
func (s *Store) UpdateAccount(ctx context.Context, a *service.Account, fields []string) error {
	cols, err := columnsOf(accountsTable, accountWritable, fields)
	if err != nil {
		return err
	}
	row := accountRowOf(a)
	row.UpdatedAt = now()
	if err := updateRow(ctx, s.wconn(ctx), accountsTable, a.ID, &row, cols); err != nil {
		return err
	}
	a.UpdatedAt = row.UpdatedAt
	return nil
}

// DeleteAccount deletes account id if the principal may see it. Errors:
// CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) DeleteAccount(ctx context.Context, id int64) error {
	return deleteRow[accountRow](ctx, s.wconn(ctx), accountsTable, id, about("account", id))
}

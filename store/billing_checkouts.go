package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/billgate/billgate/service"
)

// jsonOf is a value of any type stored as JSON text (jsonb on PostgreSQL):
// the items, quoted lines and subscriptions of a checkout.
type jsonOf[T any] struct{ V T }

// GormDataType names the column type for gorm's schema parser.
func (jsonOf[T]) GormDataType() string { return "json" }

// Value encodes the value as JSON.
func (j jsonOf[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	return string(b), err
}

// Scan decodes JSON text or bytes.
func (j *jsonOf[T]) Scan(src any) error {
	b, err := jsonBytes(src, "json value")
	if err != nil || b == nil {
		return err
	}
	if err := json.Unmarshal(b, &j.V); err != nil {
		return fmt.Errorf("json value: %w", err)
	}
	return nil
}

// checkoutRow is a row of billing_checkouts.
type checkoutRow struct {
	ID            int64                          `gorm:"column:id;primaryKey"`
	ClientsID     int64                          `gorm:"column:clients_id"`
	Status        string                         `gorm:"column:status"`
	Currency      string                         `gorm:"column:currency"`
	Voucher       string                         `gorm:"column:voucher"`
	VouchersID    *int64                         `gorm:"column:vouchers_id"`
	Items         jsonOf[[]service.CheckoutItem] `gorm:"column:items"`
	Lines         jsonOf[[]*service.InvoiceLine] `gorm:"column:lines"`
	Subtotal      int64                          `gorm:"column:subtotal"`
	Tax           int64                          `gorm:"column:tax"`
	Total         int64                          `gorm:"column:total"`
	InvoicesID    *int64                         `gorm:"column:invoices_id"`
	Subscriptions jsonOf[[]int64]                `gorm:"column:subscriptions"`
	ConfirmedAt   *time.Time                     `gorm:"column:confirmed_at"`
	LiveMode      bool                           `gorm:"column:live_mode"`
	CreatedAt     time.Time                      `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt     time.Time                      `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of checkoutRow.
func (checkoutRow) TableName() string { return "billing_checkouts" }

// checkoutsTable: checkouts are scoped through their client.
var checkoutsTable = &table{
	name: "billing_checkouts", noun: "checkout",
	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{"id": "id", "clients_id": "clients_id", "status": "status", "created_at": "created_at",
		"updated_at": "updated_at"},
}

var checkoutWritable = map[string]string{"status": "status", "invoices_id": "invoices_id", "subscriptions": "subscriptions",
	"confirmed_at": "confirmed_at"}

func checkoutRowOf(c *service.Checkout) checkoutRow {
	subs := c.Subscriptions
	if subs == nil {
		subs = []int64{}
	}
	return checkoutRow{ID: c.ID, ClientsID: c.ClientsID, Status: c.Status, Currency: c.Currency, Voucher: c.Voucher,
		VouchersID: c.VouchersID, Items: jsonOf[[]service.CheckoutItem]{c.Items}, Lines: jsonOf[[]*service.InvoiceLine]{c.Lines},
		Subtotal: c.Subtotal, Tax: c.Tax, Total: c.Total, InvoicesID: c.InvoicesID, Subscriptions: jsonOf[[]int64]{subs},
		ConfirmedAt: dbTimePtr(c.ConfirmedAt), LiveMode: c.LiveMode, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (r *checkoutRow) toService() *service.Checkout {
	c := &service.Checkout{ID: r.ID, ClientsID: r.ClientsID, Status: r.Status, Currency: r.Currency, Voucher: r.Voucher,
		VouchersID: r.VouchersID, Items: r.Items.V, Lines: r.Lines.V, Subtotal: r.Subtotal, Tax: r.Tax, Total: r.Total,
		InvoicesID: r.InvoicesID, Subscriptions: r.Subscriptions.V, ConfirmedAt: utcPtr(r.ConfirmedAt), LiveMode: r.LiveMode,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if c.Subscriptions == nil {
		c.Subscriptions = []int64{}
	}
	for _, l := range c.Lines {
		l.PeriodStart, l.PeriodEnd = utcPtr(l.PeriodStart), utcPtr(l.PeriodEnd)
	}
	return c
}

// FindCheckout returns checkout id if the principal may see its client.
// Errors: CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) FindCheckout(ctx context.Context, id int64) (*service.Checkout, error) {
	row, err := findRow[checkoutRow](ctx, s.conn(ctx), checkoutsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// LockCheckout returns checkout id with its row locked until the
// transaction of ctx ends. Errors: CodeNotFound, CodeUnavailable,
// CodeInternal (outside InTx).
func (s *Store) LockCheckout(ctx context.Context, id int64) (*service.Checkout, error) {
	if s.txFrom(ctx) == nil {
		return nil, service.Internal(errNoTx)
	}
	db := s.wconn(ctx)
	if s.dialect == DialectPostgres {
		db = db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Table: clause.Table{Name: checkoutsTable.name}})
	}
	row, err := findRow[checkoutRow](ctx, db, checkoutsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// CreateCheckout stores c for a client in the principal's scope and mode and
// sets its ID and timestamps. Errors: CodeNotFound (client), CodeUnavailable,
// CodeInternal.
func (s *Store) CreateCheckout(ctx context.Context, c *service.Checkout) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindClient(ctx, c.ClientsID); err != nil {
			return err
		}
		row := checkoutRowOf(c)
		row.ID, row.LiveMode = 0, pr.Live
		row.CreatedAt = dbTime(c.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("checkout", nil))
		}
		*c = *row.toService()
		return nil
	})
}

// UpdateCheckout writes the named fields of c (status, invoices_id,
// subscriptions, confirmed_at) and updated_at. Errors: CodeNotFound,
// CodeUnavailable, CodeInternal.
func (s *Store) UpdateCheckout(ctx context.Context, c *service.Checkout, fields []string) error {
	cols, err := columnsOf(checkoutsTable, checkoutWritable, fields)
	if err != nil {
		return err
	}
	row := checkoutRowOf(c)
	row.UpdatedAt = now()
	if err := updateRow(ctx, s.wconn(ctx), checkoutsTable, c.ID, &row, cols); err != nil {
		return err
	}
	c.UpdatedAt = row.UpdatedAt
	return nil
}

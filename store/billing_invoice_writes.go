package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/billgate/billgate/service"
)

// CreateInvoice stores inv and its lines for a client in the principal's
// scope, in the principal's mode, and sets the IDs, LiveMode and timestamps.
// A cycle invoice whose (subscription, period start) already has one is not
// stored (INSERT … ON CONFLICT DO NOTHING on the unique index, so the
// transaction goes on): created is false and inv is unchanged. Errors:
// CodeNotFound (client out of scope), CodeConflict, CodeUnavailable,
// CodeInternal.
func (s *Store) CreateInvoice(ctx context.Context, inv *service.Invoice) (created bool, err error) {
	err = s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindClient(ctx, inv.ClientsID); err != nil {
			return err
		}
		row := invoiceRowOf(inv)
		row.ID, row.LiveMode = 0, pr.Live
		row.CreatedAt = dbTime(inv.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		db := s.wconn(ctx)
		if inv.Kind == service.InvoiceKindCycle {
			db = db.Clauses(clause.OnConflict{DoNothing: true})
		}
		res := db.Create(&row)
		if res.Error != nil {
			return translate(ctx, res.Error, about("invoice", nil))
		}
		if res.RowsAffected == 0 {
			return nil // this period is billed already
		}
		lines := make([]invoiceLineRow, len(inv.Lines))
		for i, l := range inv.Lines {
			lines[i] = invoiceLineRow{InvoicesID: row.ID, Position: l.Position, Kind: l.Kind, Description: l.Description,
				PricesID: l.PricesID, Quantity: l.Quantity, UnitAmount: l.UnitAmount, Amount: l.Amount,
				TaxRate: l.TaxRate.String(), PeriodStart: dbTimePtr(l.PeriodStart), PeriodEnd: dbTimePtr(l.PeriodEnd)}
		}
		if len(lines) > 0 {
			if err := s.wconn(ctx).Create(&lines).Error; err != nil {
				return translate(ctx, err, about("invoice line", nil))
			}
		}
		out, err := row.toService(lines)
		if err != nil {
			return err
		}
		*inv, created = *out, true
		return nil
	})
	return created, err
}

// UpdateInvoice writes the named status fields of inv and updated_at.
// Errors: CodeNotFound, CodeUnavailable, CodeInternal (an amount, a line or
// another field that never changes).
func (s *Store) UpdateInvoice(ctx context.Context, inv *service.Invoice, fields []string) error {
	cols, err := columnsOf(invoicesTable, invoiceWritable, fields)
	if err != nil {
		return err
	}
	row := invoiceRowOf(inv)
	row.UpdatedAt = now()
	if err := updateRow(ctx, s.wconn(ctx), invoicesTable, inv.ID, &row, cols); err != nil {
		return err
	}
	inv.UpdatedAt = row.UpdatedAt
	return nil
}

// DeleteInvoice deletes invoice id, a draft, with its lines. Errors:
// CodeNotFound (missing or out of scope), CodeConflict (not a draft),
// CodeUnavailable, CodeInternal.
func (s *Store) DeleteInvoice(ctx context.Context, id int64) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		inv, err := s.FindInvoice(ctx, id)
		if err != nil {
			return err
		}
		if inv.Status != service.InvoiceDraft {
			return service.Errorf(service.CodeConflict, "invoice %d is %s: only drafts can be deleted", id, inv.Status)
		}
		return deleteRow[invoiceRow](ctx, s.wconn(ctx), invoicesTable, id, about("invoice", id))
	})
}

// LockInvoice returns invoice id from the principal's scope, with its lines,
// its row locked until the transaction of ctx ends (as LockSubscription).
// Errors: CodeNotFound, CodeUnavailable, CodeInternal (outside InTx).
func (s *Store) LockInvoice(ctx context.Context, id int64) (*service.Invoice, error) {
	if s.txFrom(ctx) == nil {
		return nil, service.Internal(errNoTx)
	}
	db := s.wconn(ctx)
	if s.dialect == DialectPostgres {
		db = db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Table: clause.Table{Name: invoicesTable.name}})
	}
	row, err := findRow[invoiceRow](ctx, db, invoicesTable, id)
	if err != nil {
		return nil, err
	}
	out, err := s.invoicesOf(ctx, []invoiceRow{*row})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// nextNumberSQL takes the next number of a sequence in one statement: the
// first one creates the counter row, the others increment it; the row lock
// it takes lasts until the transaction ends.
const nextNumberSQL = `INSERT INTO billing_invoice_counters (resellers_key, live_mode, last_number) VALUES (?, ?, 1)
ON CONFLICT (resellers_key, live_mode) DO UPDATE SET last_number = billing_invoice_counters.last_number + 1
RETURNING last_number`

// NextInvoiceNumber takes the next invoice number of reseller resellerID
// (nil: the root) in a mode. Inside InTx the counter stays locked until the
// transaction commits or rolls back (with it the number), so numbers have no
// gaps; outside one it is CodeInternal. Errors: CodeUnavailable, CodeInternal.
func (s *Store) NextInvoiceNumber(ctx context.Context, resellerID *int64, live bool) (int64, error) {
	if s.txFrom(ctx) == nil {
		return 0, service.Internal(errNoTx)
	}
	key := int64(0)
	if resellerID != nil {
		key = *resellerID
	}
	var n int64
	if err := s.wconn(ctx).Raw(nextNumberSQL, key, live).Scan(&n).Error; err != nil {
		return 0, translate(ctx, err, about("invoice number", key))
	}
	return n, nil
}

// testClockRow is the row of billing_test_clocks.
type testClockRow struct {
	Mode      string    `gorm:"column:mode;primaryKey"`
	ClockTime time.Time `gorm:"column:clock_time"`
	UpdatedAt time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of testClockRow.
func (testClockRow) TableName() string { return "billing_test_clocks" }

func (r *testClockRow) toService() *service.TestClock {
	return &service.TestClock{Mode: r.Mode, Now: r.ClockTime.UTC()}
}

// TestClock returns the test mode's clock, first storing def (INSERT … ON
// CONFLICT DO NOTHING, so concurrent first calls agree). Unscoped: one clock
// per mode. Errors: CodeUnavailable, CodeInternal.
func (s *Store) TestClock(ctx context.Context, def time.Time) (*service.TestClock, error) {
	return s.testClock(ctx, def, false)
}

// LockTestClock is TestClock with the row locked until the transaction of ctx
// ends (call it inside InTx; outside one it is CodeInternal).
func (s *Store) LockTestClock(ctx context.Context, def time.Time) (*service.TestClock, error) {
	if s.txFrom(ctx) == nil {
		return nil, service.Internal(errNoTx)
	}
	return s.testClock(ctx, def, true)
}

func (s *Store) testClock(ctx context.Context, def time.Time, lock bool) (*service.TestClock, error) {
	if !lock { // the clock exists but on first use: read it without taking the writer
		var row testClockRow
		if err := s.conn(ctx).Where("mode = ?", service.ModeTest).Take(&row).Error; err == nil {
			return row.toService(), nil
		}
	}
	t := dbTime(def)
	err := s.wconn(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&testClockRow{Mode: service.ModeTest, ClockTime: t, UpdatedAt: now()}).Error
	if err != nil {
		return nil, translate(ctx, err, about("test clock", service.ModeTest))
	}
	db := s.wconn(ctx)
	if lock && s.dialect == DialectPostgres {
		db = db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	var row testClockRow
	if err := db.Where("mode = ?", service.ModeTest).Take(&row).Error; err != nil {
		return nil, translate(ctx, err, about("test clock", service.ModeTest))
	}
	return row.toService(), nil
}

// SetTestClock moves the test clock to t (UTC, microseconds). Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) SetTestClock(ctx context.Context, t time.Time) (*service.TestClock, error) {
	row := testClockRow{Mode: service.ModeTest, ClockTime: dbTime(t), UpdatedAt: now()}
	err := s.wconn(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
	if err != nil {
		return nil, translate(ctx, err, about("test clock", service.ModeTest))
	}
	return row.toService(), nil
}

package store

import (
	"context"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// TestBillingIITablesDeclareTheirScope: every table of issue 7 has a
// complete scope spec (reseller and mode) and an id field.
func TestBillingIITablesDeclareTheirScope(t *testing.T) {
	for _, tb := range []*table{paymentsTable, refundsTable, vouchersTable, redemptionsTable, metricsTable, usageEventsTable,
		usageLimitsTable, checkoutsTable} {
		if err := tb.scope.check(); err != nil {
			t.Errorf("%s: %v", tb.name, err)
		}
		if _, ok := tb.fields["id"]; !ok {
			t.Errorf("%s: no id field", tb.name)
		}
		if !tb.scope.liveMode {
			t.Errorf("%s: not scoped by mode", tb.name)
		}
	}
}

// TestBillingIIMigrationsGoDownAndUp: migrations 00007 to 00010 undo
// themselves on both databases — with an invoice line kept through SQLite's
// rebuilt lines table — and apply again.
func TestBillingIIMigrationsGoDownAndUp(t *testing.T) {
	forEachStoreAt(t, 6, func(t *testing.T, ctx context.Context, st *Store, p *goose.Provider) {
		db := st.wdb.WithContext(ctx)
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, q := range []string{
			`INSERT INTO clients (name, status, currency, credit, balance, live_mode, created_at, updated_at) VALUES ('c', 'active', 'USD', 0, 0, TRUE, ?, ?)`,
			`INSERT INTO billing_invoices (clients_id, kind, status, currency, subtotal, tax, total, issued_at, due_at, live_mode, created_at, updated_at)
				SELECT id, 'manual', 'draft', 'USD', 5, 0, 5, ?, ? , TRUE, ?, ? FROM clients`,
			`INSERT INTO billing_invoice_lines (invoices_id, position, kind, description, quantity, unit_amount, amount, tax_rate)
				SELECT id, 1, 'manual', 'kept', 1, 5, 5, '0' FROM billing_invoices`,
		} {
			args := []any{now, now, now, now}[:countMarks(q)]
			if err := db.Exec(q, args...).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var desc string
		if err := db.Raw(`SELECT description FROM billing_invoice_lines`).Scan(&desc).Error; err != nil || desc != "kept" {
			t.Fatalf("the line after 00007: %q %v", desc, err)
		}
		if _, err := p.DownTo(ctx, 6); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`SELECT COUNT(*) FROM billing_payments`, `SELECT COUNT(*) FROM billing_usage_events`,
			`SELECT COUNT(*) FROM billing_vouchers`, `SELECT COUNT(*) FROM billing_checkouts`, `SELECT amount_paid FROM billing_invoices`} {
			var n int64
			if err := db.Raw(q).Scan(&n).Error; err == nil {
				t.Errorf("still there after Down: %s", q)
			}
		}
		if err := db.Raw(`SELECT description FROM billing_invoice_lines`).Scan(&desc).Error; err != nil || desc != "kept" {
			t.Fatalf("the line after Down: %q %v", desc, err)
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func countMarks(q string) int {
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
		}
	}
	return n
}

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/billgate/billgate/service"
)

// invoiceRow is a row of billing_invoices.
type invoiceRow struct {
	ID                 int64      `gorm:"column:id;primaryKey"`
	ClientsID          int64      `gorm:"column:clients_id"`
	ResellersID        *int64     `gorm:"column:resellers_id"`
	SubscriptionsID    *int64     `gorm:"column:subscriptions_id"`
	Number             *int64     `gorm:"column:number"`
	Kind               string     `gorm:"column:kind"`
	Status             string     `gorm:"column:status"`
	Currency           string     `gorm:"column:currency"`
	Subtotal           int64      `gorm:"column:subtotal"`
	Tax                int64      `gorm:"column:tax"`
	Total              int64      `gorm:"column:total"`
	AmountPaid         int64      `gorm:"column:amount_paid"`
	PeriodStart        *time.Time `gorm:"column:period_start"`
	PeriodEnd          *time.Time `gorm:"column:period_end"`
	IssuedAt           time.Time  `gorm:"column:issued_at"`
	DueAt              time.Time  `gorm:"column:due_at"`
	FinalizedAt        *time.Time `gorm:"column:finalized_at"`
	PaidAt             *time.Time `gorm:"column:paid_at"`
	VoidedAt           *time.Time `gorm:"column:voided_at"`
	TransactionsID     *int64     `gorm:"column:transactions_id"`
	VoidTransactionsID *int64     `gorm:"column:void_transactions_id"`
	Memo               string     `gorm:"column:memo"`
	LiveMode           bool       `gorm:"column:live_mode"`
	CreatedAt          time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt          time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of invoiceRow.
func (invoiceRow) TableName() string { return "billing_invoices" }

// invoiceLineRow is a row of billing_invoice_lines.
type invoiceLineRow struct {
	ID          int64      `gorm:"column:id;primaryKey"`
	InvoicesID  int64      `gorm:"column:invoices_id"`
	Position    int        `gorm:"column:position"`
	Kind        string     `gorm:"column:kind"`
	Description string     `gorm:"column:description"`
	PricesID    *int64     `gorm:"column:prices_id"`
	Quantity    int64      `gorm:"column:quantity"`
	UnitAmount  int64      `gorm:"column:unit_amount"`
	Amount      int64      `gorm:"column:amount"`
	TaxRate     string     `gorm:"column:tax_rate"`
	PeriodStart *time.Time `gorm:"column:period_start"`
	PeriodEnd   *time.Time `gorm:"column:period_end"`
}

// TableName tells gorm the table of invoiceLineRow.
func (invoiceLineRow) TableName() string { return "billing_invoice_lines" }

// invoicesTable: invoices are scoped through their client (reseller subtree
// and mode) and carry the client's mode.
var invoicesTable = &table{
	name: "billing_invoices", noun: "invoice",
	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{
		"id": "id", "clients_id": "clients_id", "subscriptions_id": "subscriptions_id", "number": "number",
		"status": "status", "kind": "kind", "issued_at": "issued_at", "total": "total", "memo": "memo",
		"created_at": "created_at", "updated_at": "updated_at",
	},
}

// invoiceWritable: only the status and what comes with it change; amounts
// and lines are written once.
var invoiceWritable = map[string]string{
	"status": "status", "number": "number", "resellers_id": "resellers_id", "due_at": "due_at",
	"finalized_at": "finalized_at", "paid_at": "paid_at", "voided_at": "voided_at",
	"transactions_id": "transactions_id", "void_transactions_id": "void_transactions_id", "amount_paid": "amount_paid",
}

func invoiceRowOf(inv *service.Invoice) invoiceRow {
	return invoiceRow{
		ID: inv.ID, ClientsID: inv.ClientsID, ResellersID: inv.ResellersID, SubscriptionsID: inv.SubscriptionsID,
		Number: inv.Number, Kind: inv.Kind, Status: inv.Status, Currency: inv.Currency, Subtotal: inv.Subtotal,
		Tax: inv.Tax, Total: inv.Total, AmountPaid: inv.AmountPaid, PeriodStart: dbTimePtr(inv.PeriodStart), PeriodEnd: dbTimePtr(inv.PeriodEnd),
		IssuedAt: dbTime(inv.IssuedAt), DueAt: dbTime(inv.DueAt), FinalizedAt: dbTimePtr(inv.FinalizedAt),
		PaidAt: dbTimePtr(inv.PaidAt), VoidedAt: dbTimePtr(inv.VoidedAt), TransactionsID: inv.TransactionsID,
		VoidTransactionsID: inv.VoidTransactionsID, Memo: inv.Memo, LiveMode: inv.LiveMode,
		CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt,
	}
}

func (r *invoiceRow) toService(lines []invoiceLineRow) (*service.Invoice, error) {
	inv := &service.Invoice{
		ID: r.ID, ClientsID: r.ClientsID, ResellersID: r.ResellersID, SubscriptionsID: r.SubscriptionsID, Number: r.Number,
		Kind: r.Kind, Status: r.Status, Currency: r.Currency, Subtotal: r.Subtotal, Tax: r.Tax, Total: r.Total, AmountPaid: r.AmountPaid,
		PeriodStart: utcPtr(r.PeriodStart), PeriodEnd: utcPtr(r.PeriodEnd), IssuedAt: r.IssuedAt.UTC(), DueAt: r.DueAt.UTC(),
		FinalizedAt: utcPtr(r.FinalizedAt), PaidAt: utcPtr(r.PaidAt), VoidedAt: utcPtr(r.VoidedAt),
		TransactionsID: r.TransactionsID, VoidTransactionsID: r.VoidTransactionsID, Memo: r.Memo, LiveMode: r.LiveMode,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Lines: make([]*service.InvoiceLine, 0, len(lines)),
	}
	for _, l := range lines {
		rate, err := service.ParseTaxRate(l.TaxRate)
		if err != nil {
			return nil, service.Internal(fmt.Errorf("invoice %d line %d: tax rate %q: %w", r.ID, l.Position, l.TaxRate, err))
		}
		inv.Lines = append(inv.Lines, &service.InvoiceLine{Position: l.Position, Kind: l.Kind, Description: l.Description,
			PricesID: l.PricesID, Quantity: l.Quantity, UnitAmount: l.UnitAmount, Amount: l.Amount, TaxRate: rate,
			PeriodStart: utcPtr(l.PeriodStart), PeriodEnd: utcPtr(l.PeriodEnd)})
	}
	return inv, nil
}

// invoicesOf loads the lines of rows (one query) and converts them.
func (s *Store) invoicesOf(ctx context.Context, rows []invoiceRow) ([]*service.Invoice, error) {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	byInvoice := map[int64][]invoiceLineRow{}
	if len(ids) > 0 {
		var lines []invoiceLineRow
		if err := s.conn(ctx).Where("invoices_id IN ?", ids).Order("invoices_id, position").Find(&lines).Error; err != nil {
			return nil, translate(ctx, err, about("invoice", nil))
		}
		for _, l := range lines {
			byInvoice[l.InvoicesID] = append(byInvoice[l.InvoicesID], l)
		}
	}
	out := make([]*service.Invoice, len(rows))
	for i := range rows {
		inv, err := rows[i].toService(byInvoice[rows[i].ID])
		if err != nil {
			return nil, err
		}
		out[i] = inv
	}
	return out, nil
}

// FindInvoice returns invoice id, with its lines, if the principal may see
// its client. Errors: CodeNotFound (missing or out of scope),
// CodeUnavailable, CodeInternal.
func (s *Store) FindInvoice(ctx context.Context, id int64) (*service.Invoice, error) {
	row, err := findRow[invoiceRow](ctx, s.conn(ctx), invoicesTable, id)
	if err != nil {
		return nil, err
	}
	out, err := s.invoicesOf(ctx, []invoiceRow{*row})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// SearchInvoices lists the invoices in scope matching q (up to q.Limit+1),
// with their lines. Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchInvoices(ctx context.Context, q service.Query) ([]*service.Invoice, error) {
	rows, err := searchRows[invoiceRow](ctx, s.conn(ctx), invoicesTable, q)
	if err != nil {
		return nil, err
	}
	return s.invoicesOf(ctx, rows)
}

// CountInvoices counts the invoices in scope matching q. Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) CountInvoices(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), invoicesTable, q)
}

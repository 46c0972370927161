package store

import (
	"context"
	"time"

	"github.com/billgate/billgate/service"
	"gorm.io/gorm/clause"
)

// paymentRow is a row of billing_payments.
type paymentRow struct {
	ID                int64     `gorm:"column:id;primaryKey"`
	ClientsID         int64     `gorm:"column:clients_id"`
	ResellersID       *int64    `gorm:"column:resellers_id"`
	Amount            int64     `gorm:"column:amount"`
	Refunded          int64     `gorm:"column:refunded"`
	Currency          string    `gorm:"column:currency"`
	Provider          string    `gorm:"column:provider"`
	Method            string    `gorm:"column:method"`
	ExternalReference string    `gorm:"column:external_reference"`
	ProviderReference string    `gorm:"column:provider_reference"`
	Status            string    `gorm:"column:status"`
	Notes             string    `gorm:"column:notes"`
	TransactionsID    *int64    `gorm:"column:transactions_id"`
	UsersID           *int64    `gorm:"column:users_id"`
	ReceivedAt        time.Time `gorm:"column:received_at"`
	LiveMode          bool      `gorm:"column:live_mode"`
	CreatedAt         time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt         time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of paymentRow.
func (paymentRow) TableName() string { return "billing_payments" }

// allocationRow is a row of billing_payment_invoices: what a payment paid of
// one invoice.
type allocationRow struct {
	PaymentsID int64 `gorm:"column:payments_id;primaryKey"`
	InvoicesID int64 `gorm:"column:invoices_id;primaryKey"`
	Amount     int64 `gorm:"column:amount"`
}

// TableName tells gorm the table of allocationRow.
func (allocationRow) TableName() string { return "billing_payment_invoices" }

// paymentsTable: payments are scoped through their client (reseller subtree
// and mode) and carry the client's mode.
var paymentsTable = &table{
	name: "billing_payments", noun: "payment",
	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{
		"id": "id", "clients_id": "clients_id", "provider": "provider", "external_reference": "external_reference",
		"amount": "amount", "notes": "notes", "created_at": "created_at", "updated_at": "updated_at",
	},
}

func paymentRowOf(p *service.Payment) paymentRow {
	return paymentRow{ID: p.ID, ClientsID: p.ClientsID, ResellersID: p.ResellersID, Amount: p.Amount, Refunded: p.Refunded,
		Currency: p.Currency, Provider: p.Provider, Method: p.Method, ExternalReference: p.ExternalReference,
		ProviderReference: p.ProviderReference, Status: p.Status, Notes: p.Notes, TransactionsID: p.TransactionsID,
		UsersID: p.UsersID, ReceivedAt: dbTime(p.ReceivedAt), LiveMode: p.LiveMode, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (r *paymentRow) toService(allocs []allocationRow) *service.Payment {
	p := &service.Payment{ID: r.ID, ClientsID: r.ClientsID, ResellersID: r.ResellersID, Amount: r.Amount, Refunded: r.Refunded,
		Currency: r.Currency, Provider: r.Provider, Method: r.Method, ExternalReference: r.ExternalReference,
		ProviderReference: r.ProviderReference, Status: r.Status, Notes: r.Notes, TransactionsID: r.TransactionsID,
		UsersID: r.UsersID, ReceivedAt: r.ReceivedAt.UTC(), LiveMode: r.LiveMode, CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(), Invoices: make([]service.PaymentAllocation, 0, len(allocs))}
	for _, a := range allocs {
		p.Invoices = append(p.Invoices, service.PaymentAllocation{InvoicesID: a.InvoicesID, Amount: a.Amount})
	}
	return p
}

// paymentsOf loads the allocations of rows (one query) and converts them;
// allocations are listed by invoice id.
func (s *Store) paymentsOf(ctx context.Context, rows []paymentRow) ([]*service.Payment, error) {
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	by := map[int64][]allocationRow{}
	if len(ids) > 0 {
		var allocs []allocationRow
		if err := s.conn(ctx).Where("payments_id IN ?", ids).Order("payments_id, invoices_id").Find(&allocs).Error; err != nil {
			return nil, translate(ctx, err, about("payment", nil))
		}
		for _, a := range allocs {
			by[a.PaymentsID] = append(by[a.PaymentsID], a)
		}
	}
	out := make([]*service.Payment, len(rows))
	for i := range rows {
		out[i] = rows[i].toService(by[rows[i].ID])
	}
	return out, nil
}

// FindPayment returns payment id, with what it paid of each invoice, if the
// principal may see its client. Errors: CodeNotFound, CodeUnavailable,
// CodeInternal.
func (s *Store) FindPayment(ctx context.Context, id int64) (*service.Payment, error) {
	return s.findPayment(ctx, false, id)
}

// findPayment is FindPayment, with the row locked (FOR UPDATE) when lock is set.
func (s *Store) findPayment(ctx context.Context, lock bool, id int64) (*service.Payment, error) {
	q := s.conn(ctx)
	if lock {
		q = s.wconn(ctx)
		if s.dialect == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Table: clause.Table{Name: paymentsTable.name}})
		}
	}
	row, err := findRow[paymentRow](ctx, q, paymentsTable, id)
	if err != nil {
		return nil, err
	}
	out, err := s.paymentsOf(ctx, []paymentRow{*row})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// LockPayment returns payment id with its row locked until the transaction
// of ctx ends (SELECT … FOR UPDATE on PostgreSQL; SQLite's transactions hold
// the write lock). Errors: CodeNotFound, CodeUnavailable, CodeInternal
// (outside InTx).
func (s *Store) LockPayment(ctx context.Context, id int64) (*service.Payment, error) {
	if s.txFrom(ctx) == nil {
		return nil, service.Internal(errNoTx)
	}
	return s.findPayment(ctx, true, id)
}

// SearchPayments lists the payments in scope matching q (up to q.Limit+1),
// with their allocations. Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchPayments(ctx context.Context, q service.Query) ([]*service.Payment, error) {
	rows, err := searchRows[paymentRow](ctx, s.conn(ctx), paymentsTable, q)
	if err != nil {
		return nil, err
	}
	return s.paymentsOf(ctx, rows)
}

// CreatePayment stores p and its allocations for a client in the
// principal's scope and mode, and sets its ID and timestamps. Errors:
// CodeNotFound (client out of scope), CodeConflict (external_reference taken
// in the reseller and mode; an invoice that does not exist),
// CodeUnavailable, CodeInternal.
func (s *Store) CreatePayment(ctx context.Context, p *service.Payment) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindClient(ctx, p.ClientsID); err != nil {
			return err
		}
		row := paymentRowOf(p)
		row.ID, row.LiveMode = 0, pr.Live
		row.CreatedAt = dbTime(p.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("payment", nil))
		}
		allocs := make([]allocationRow, len(p.Invoices))
		for i, a := range p.Invoices {
			allocs[i] = allocationRow{PaymentsID: row.ID, InvoicesID: a.InvoicesID, Amount: a.Amount}
		}
		if len(allocs) > 0 {
			if err := s.wconn(ctx).Create(&allocs).Error; err != nil {
				return translate(ctx, err, about("payment", row.ID))
			}
		}
		out, err := s.paymentsOf(ctx, []paymentRow{row})
		if err != nil {
			return err
		}
		*p = *out[0]
		return nil
	})
}

// SetPaymentRefunded writes what has been refunded of payment id (the
// database refuses more than its amount). Errors: CodeNotFound,
// CodeUnavailable, CodeInternal.
func (s *Store) SetPaymentRefunded(ctx context.Context, id, refunded int64) error {
	row := paymentRow{Refunded: refunded, UpdatedAt: now()}
	return updateRow(ctx, s.wconn(ctx), paymentsTable, id, &row, []string{"refunded", "updated_at"})
}

// PaymentsForInvoices returns the payments in scope that paid any of the
// invoices, with their allocations, by id. Errors: CodeUnavailable,
// CodeInternal.
func (s *Store) PaymentsForInvoices(ctx context.Context, invoiceIDs []int64) ([]*service.Payment, error) {
	if len(invoiceIDs) == 0 {
		return nil, nil
	}
	tx, err := scoped(ctx, s.conn(ctx), paymentsTable)
	if err != nil {
		return nil, err
	}
	var rows []paymentRow
	err = tx.Where("billing_payments.id IN (SELECT payments_id FROM billing_payment_invoices WHERE invoices_id IN ?)", invoiceIDs).
		Order("billing_payments.id").Find(&rows).Error
	if err != nil {
		return nil, translate(ctx, err, about("payment", nil))
	}
	return s.paymentsOf(ctx, rows)
}

// ClientOutstanding returns what client's finalized invoices with a
// positive total still owe. Errors: CodeUnavailable, CodeInternal.
func (s *Store) ClientOutstanding(ctx context.Context, clientID int64) (int64, error) {
	tx, err := scoped(ctx, s.conn(ctx), invoicesTable)
	if err != nil {
		return 0, err
	}
	var owed int64
	err = tx.Where("billing_invoices.clients_id = ? AND billing_invoices.status = ? AND billing_invoices.total > 0",
		clientID, service.InvoiceFinalized).
		Select("COALESCE(SUM(billing_invoices.total - billing_invoices.amount_paid), 0)").Scan(&owed).Error
	if err != nil {
		return 0, translate(ctx, err, about("invoice", nil))
	}
	return owed, nil
}

// refundRow is a row of billing_refunds.
type refundRow struct {
	ID                int64     `gorm:"column:id;primaryKey"`
	PaymentsID        int64     `gorm:"column:payments_id"`
	ClientsID         int64     `gorm:"column:clients_id"`
	Amount            int64     `gorm:"column:amount"`
	Currency          string    `gorm:"column:currency"`
	Reason            string    `gorm:"column:reason"`
	Status            string    `gorm:"column:status"`
	ProviderReference string    `gorm:"column:provider_reference"`
	TransactionsID    *int64    `gorm:"column:transactions_id"`
	SubscriptionsID   *int64    `gorm:"column:subscriptions_id"`
	CreditInvoicesID  *int64    `gorm:"column:credit_invoices_id"`
	UsersID           *int64    `gorm:"column:users_id"`
	LiveMode          bool      `gorm:"column:live_mode"`
	CreatedAt         time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

// TableName tells gorm the table of refundRow.
func (refundRow) TableName() string { return "billing_refunds" }

// refundsTable: refunds are scoped through their client and carry its mode.
// Append-only: the store has no update or delete for them.
var refundsTable = &table{
	name: "billing_refunds", noun: "refund",
	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{
		"id": "id", "clients_id": "clients_id", "payments_id": "payments_id", "subscriptions_id": "subscriptions_id",
		"amount": "amount", "reason": "reason", "created_at": "created_at",
	},
}

func (r *refundRow) toService() *service.Refund {
	return &service.Refund{ID: r.ID, PaymentsID: r.PaymentsID, ClientsID: r.ClientsID, Amount: r.Amount, Currency: r.Currency,
		Reason: r.Reason, Status: r.Status, ProviderReference: r.ProviderReference, TransactionsID: r.TransactionsID,
		SubscriptionsID: r.SubscriptionsID, CreditInvoicesID: r.CreditInvoicesID, UsersID: r.UsersID, LiveMode: r.LiveMode,
		CreatedAt: r.CreatedAt.UTC()}
}

// FindRefund returns refund id if the principal may see its client. Errors:
// CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) FindRefund(ctx context.Context, id int64) (*service.Refund, error) {
	row, err := findRow[refundRow](ctx, s.conn(ctx), refundsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SearchRefunds lists the refunds in scope matching q (up to q.Limit+1).
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchRefunds(ctx context.Context, q service.Query) ([]*service.Refund, error) {
	rows, err := searchRows[refundRow](ctx, s.conn(ctx), refundsTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Refund, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CreateRefund stores r for a payment in the principal's scope and mode and
// sets its ID and CreatedAt. Errors: CodeNotFound (payment out of scope),
// CodeUnavailable, CodeInternal.
func (s *Store) CreateRefund(ctx context.Context, r *service.Refund) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		pay, err := s.FindPayment(ctx, r.PaymentsID)
		if err != nil {
			return err
		}
		row := refundRow{PaymentsID: pay.ID, ClientsID: pay.ClientsID, Amount: r.Amount, Currency: r.Currency, Reason: r.Reason,
			Status: r.Status, ProviderReference: r.ProviderReference, TransactionsID: r.TransactionsID,
			SubscriptionsID: r.SubscriptionsID, CreditInvoicesID: r.CreditInvoicesID, UsersID: r.UsersID, LiveMode: pr.Live,
			CreatedAt: dbTime(r.CreatedAt)}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("refund", nil))
		}
		*r = *row.toService()
		return nil
	})
}

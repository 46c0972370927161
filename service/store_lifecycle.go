package service

import (
	"context"
	"time"
)

// The storage of the billing lifecycle (issue 6): catalog, subscriptions,
// invoices and the test clock. Scoping and errors as documented on Store.

// ProductStore keeps billing products, scoped by reseller subtree and mode.
type ProductStore interface {
	FindProduct(ctx context.Context, id int64) (*Product, error)
	SearchProducts(ctx context.Context, q Query) ([]*Product, error)
	CountProducts(ctx context.Context, q Query) (int64, error)
	// CreateProduct stores p under p.ResellersID in the principal's mode.
	CreateProduct(ctx context.Context, p *Product) error
	UpdateProduct(ctx context.Context, p *Product, fields []string) error
	// DeleteProduct refuses (conflict) a product that still has prices or plans.
	DeleteProduct(ctx context.Context, id int64) error
}

// PriceStore keeps prices, scoped through their product.
type PriceStore interface {
	FindPrice(ctx context.Context, id int64) (*Price, error)
	SearchPrices(ctx context.Context, q Query) ([]*Price, error)
	CountPrices(ctx context.Context, q Query) (int64, error)
	// CreatePrice stores p for a product in scope (not found otherwise).
	CreatePrice(ctx context.Context, p *Price) error
	UpdatePrice(ctx context.Context, p *Price, fields []string) error
	// DeletePrice refuses (conflict) a price used by plans, subscriptions or invoices.
	DeletePrice(ctx context.Context, id int64) error
}

// PlanStore keeps subscription plans, scoped by reseller subtree and mode.
// A plan's Prices are the ids of its prices (a join table).
type PlanStore interface {
	FindPlan(ctx context.Context, id int64) (*Plan, error)
	SearchPlans(ctx context.Context, q Query) ([]*Plan, error)
	CountPlans(ctx context.Context, q Query) (int64, error)
	// CreatePlan stores p and its price list; a code name already used in the
	// reseller and mode is a conflict naming code_name.
	CreatePlan(ctx context.Context, p *Plan) error
	// UpdatePlan writes the named fields; "prices" replaces the price list.
	UpdatePlan(ctx context.Context, p *Plan, fields []string) error
	// DeletePlan refuses (conflict) a plan that subscriptions still use.
	DeletePlan(ctx context.Context, id int64) error
}

// SubscriptionStore keeps subscriptions, scoped through their client.
type SubscriptionStore interface {
	FindSubscription(ctx context.Context, id int64) (*Subscription, error)
	SearchSubscriptions(ctx context.Context, q Query) ([]*Subscription, error)
	CountSubscriptions(ctx context.Context, q Query) (int64, error)
	CreateSubscription(ctx context.Context, sub *Subscription) error
	// UpdateSubscription writes the named fields (and the derived due time).
	UpdateSubscription(ctx context.Context, sub *Subscription, fields []string) error
	// LockSubscription returns the subscription with its row locked until the
	// transaction of ctx ends (SELECT … FOR UPDATE on PostgreSQL; SQLite's
	// transactions hold the write lock); call it inside InTx.
	LockSubscription(ctx context.Context, id int64) (*Subscription, error)
	// DueSubscriptions returns up to limit ids of subscriptions in scope with
	// billing work due at or before now (a period end, a trial end or a
	// cancellation date), oldest work first, leaving out the ids in skip.
	DueSubscriptions(ctx context.Context, now time.Time, limit int, skip []int64) ([]int64, error)
}

// InvoiceStore keeps invoices and their lines, scoped through their client.
type InvoiceStore interface {
	// FindInvoice returns the invoice with its lines.
	FindInvoice(ctx context.Context, id int64) (*Invoice, error)
	// SearchInvoices returns invoices with their lines.
	SearchInvoices(ctx context.Context, q Query) ([]*Invoice, error)
	CountInvoices(ctx context.Context, q Query) (int64, error)
	// CreateInvoice stores inv and its lines. A cycle invoice for a
	// subscription period that already has one is not stored: created is
	// false and inv is left as it was (the billing run's idempotency, backed
	// by a unique index).
	CreateInvoice(ctx context.Context, inv *Invoice) (created bool, err error)
	// UpdateInvoice writes the named status fields (status, number,
	// resellers_id, due_at, finalized_at, paid_at, voided_at, transactions_id,
	// void_transactions_id, amount_paid); amounts and lines never change.
	UpdateInvoice(ctx context.Context, inv *Invoice, fields []string) error
	// DeleteInvoice deletes a draft (a finalized invoice is a conflict).
	DeleteInvoice(ctx context.Context, id int64) error
	// LockInvoice returns the invoice with its row locked (inside InTx).
	LockInvoice(ctx context.Context, id int64) (*Invoice, error)
	// NextInvoiceNumber takes the next number of the reseller's (nil: the
	// root's) sequence in a mode, locking the counter until the transaction
	// of ctx ends, so numbers are gap-free. Call it inside InTx.
	NextInvoiceNumber(ctx context.Context, resellerID *int64, live bool) (int64, error)
}

// TestClockStore keeps the test mode's clock (unscoped: one per mode).
type TestClockStore interface {
	// TestClock returns the test clock, first storing def when there is none.
	TestClock(ctx context.Context, def time.Time) (*TestClock, error)
	// LockTestClock is TestClock with the row locked until the transaction of
	// ctx ends; call it inside InTx.
	LockTestClock(ctx context.Context, def time.Time) (*TestClock, error)
	// SetTestClock moves the test clock to now.
	SetTestClock(ctx context.Context, now time.Time) (*TestClock, error)
}

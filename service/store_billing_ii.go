package service

import (
	"context"
	"time"
)

// The storage of the billing lifecycle II (issue 7): payments and refunds,
// vouchers, usage metering and checkouts. Scoping and errors as documented
// on Store: each table is scoped by reseller subtree (directly or through
// its client) and by mode.

// LifecycleIIStore groups the stores of issue 7.
type LifecycleIIStore interface {
	PaymentStore
	VoucherStore
	UsageStore
	CheckoutStore
}

// PaymentStore keeps payments (with what they paid of each invoice) and
// refunds, scoped through their client.
type PaymentStore interface {
	// FindPayment returns the payment with its allocations.
	FindPayment(ctx context.Context, id int64) (*Payment, error)
	SearchPayments(ctx context.Context, q Query) ([]*Payment, error)
	// CreatePayment stores p and its allocations (p.Invoices). An
	// external_reference already recorded in the reseller and mode is a
	// conflict (a unique index).
	CreatePayment(ctx context.Context, p *Payment) error
	// LockPayment is FindPayment with the row locked until the transaction
	// of ctx ends (call it inside InTx).
	LockPayment(ctx context.Context, id int64) (*Payment, error)
	// SetPaymentRefunded writes what has been refunded of payment id.
	SetPaymentRefunded(ctx context.Context, id, refunded int64) error
	// PaymentsForInvoices returns the payments that paid any of the invoices.
	PaymentsForInvoices(ctx context.Context, invoiceIDs []int64) ([]*Payment, error)
	// ClientOutstanding is what the client's finalized invoices still owe:
	// Σ (total − amount_paid) over those with a positive total.
	ClientOutstanding(ctx context.Context, clientID int64) (int64, error)
	FindRefund(ctx context.Context, id int64) (*Refund, error)
	SearchRefunds(ctx context.Context, q Query) ([]*Refund, error)
	CreateRefund(ctx context.Context, r *Refund) error
}

// VoucherStore keeps vouchers (scoped by reseller and mode) and their
// redemptions (scoped through their client).
type VoucherStore interface {
	FindVoucher(ctx context.Context, id int64) (*Voucher, error)
	SearchVouchers(ctx context.Context, q Query) ([]*Voucher, error)
	// CreateVoucher stores v; a code taken in the reseller and mode is a conflict.
	CreateVoucher(ctx context.Context, v *Voucher) error
	UpdateVoucher(ctx context.Context, v *Voucher, fields []string) error
	// DeleteVoucher refuses (conflict) a voucher applied to a client.
	DeleteVoucher(ctx context.Context, id int64) error
	// CreateRedemption applies a voucher to a client; a second time for the
	// same pair is a conflict (a unique index).
	CreateRedemption(ctx context.Context, r *VoucherRedemption) error
	// CountRedemption adds one to the voucher's times_redeemed unless that
	// would pass max_redemptions (ok false): one conditional UPDATE.
	CountRedemption(ctx context.Context, voucherID int64) (ok bool, err error)
	// LockActiveRedemptions returns the client's redemptions with cycles
	// left, oldest first, each with its Voucher, locked until the
	// transaction of ctx ends.
	LockActiveRedemptions(ctx context.Context, clientID int64) ([]*VoucherRedemption, error)
	// UseRedemption takes one cycle off redemption id.
	UseRedemption(ctx context.Context, id int64) error
}

// UsageStore keeps metrics (scoped by reseller and mode), usage events and
// usage limits (scoped through their client).
type UsageStore interface {
	FindMetric(ctx context.Context, id int64) (*Metric, error)
	// FindMetricByCode returns the metric called code owned by reseller
	// resellerID (nil: the root) in the principal's mode and scope.
	FindMetricByCode(ctx context.Context, code string, resellerID *int64) (*Metric, error)
	SearchMetrics(ctx context.Context, q Query) ([]*Metric, error)
	// CreateMetric stores m; a code taken in the reseller and mode is a conflict.
	CreateMetric(ctx context.Context, m *Metric) error
	UpdateMetric(ctx context.Context, m *Metric, fields []string) error
	// DeleteMetric refuses (conflict) a metric events measured.
	DeleteMetric(ctx context.Context, id int64) error
	// UsageTarget reads, in one query, what recording an event for
	// subscription subID and metric code needs (not_found: subscription).
	UsageTarget(ctx context.Context, subID int64, code string) (*UsageTarget, error)
	// CreateUsageEvent stores e unless its subscription already has an
	// event with its event_id (INSERT … ON CONFLICT DO NOTHING: the
	// transaction goes on); then created is false and e is the stored one.
	CreateUsageEvent(ctx context.Context, e *UsageEvent) (created bool, err error)
	SearchUsageEvents(ctx context.Context, q Query) ([]*UsageEvent, error)
	CountUsageEvents(ctx context.Context, q Query) (int64, error)
	// AggregateUsage aggregates the subscription's events of metric m that
	// occurred in [from, to) as m says.
	AggregateUsage(ctx context.Context, subID int64, m *Metric, from, to time.Time) (Decimal, error)
	FindUsageLimit(ctx context.Context, id int64) (*UsageLimit, error)
	SearchUsageLimits(ctx context.Context, q Query) ([]*UsageLimit, error)
	CreateUsageLimit(ctx context.Context, l *UsageLimit) error
	DeleteUsageLimit(ctx context.Context, id int64) error
	// PendingUsageLimits returns the client's limits that have not fired.
	PendingUsageLimits(ctx context.Context, clientID int64) ([]*UsageLimit, error)
	// FireUsageLimit marks limit id fired at `at` for cost unless it has
	// fired already (one conditional UPDATE): fired says whether this call did.
	FireUsageLimit(ctx context.Context, id int64, at time.Time, cost int64) (fired bool, err error)
}

// CheckoutStore keeps checkouts, scoped through their client.
type CheckoutStore interface {
	FindCheckout(ctx context.Context, id int64) (*Checkout, error)
	CreateCheckout(ctx context.Context, c *Checkout) error
	// LockCheckout is FindCheckout with the row locked (inside InTx).
	LockCheckout(ctx context.Context, id int64) (*Checkout, error)
	// UpdateCheckout writes the named fields (status, invoices_id,
	// subscriptions, confirmed_at).
	UpdateCheckout(ctx context.Context, c *Checkout, fields []string) error
}

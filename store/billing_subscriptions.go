package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/billgate/billgate/service"
)

// subscriptionRow is a row of billing_subscriptions.
type subscriptionRow struct {
	ID                 int64      `gorm:"column:id;primaryKey"`
	ClientsID          int64      `gorm:"column:clients_id"`
	PlansID            int64      `gorm:"column:plans_id"`
	PricesID           int64      `gorm:"column:prices_id"`
	Status             string     `gorm:"column:status"`
	Seats              int64      `gorm:"column:seats"`
	Schedule           string     `gorm:"column:schedule"`
	Currency           string     `gorm:"column:currency"`
	Timezone           string     `gorm:"column:timezone"`
	TrialEndsAt        *time.Time `gorm:"column:trial_ends_at"`
	BillingAnchor      *time.Time `gorm:"column:billing_anchor"`
	CurrentPeriodStart time.Time  `gorm:"column:current_period_start"`
	CurrentPeriodEnd   time.Time  `gorm:"column:current_period_end"`
	CancelAt           *time.Time `gorm:"column:cancel_at"`
	CancelRefundType   string     `gorm:"column:cancel_refund_type"`
	CancelComment      string     `gorm:"column:cancel_comment"`
	CanceledAt         *time.Time `gorm:"column:canceled_at"`
	EndedAt            *time.Time `gorm:"column:ended_at"`
	PendingPlansID     *int64     `gorm:"column:pending_plans_id"`
	PendingPricesID    *int64     `gorm:"column:pending_prices_id"`
	DueAt              *time.Time `gorm:"column:due_at"`
	Metadata           jsonObject `gorm:"column:metadata"`
	LiveMode           bool       `gorm:"column:live_mode"`
	CreatedAt          time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt          time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of subscriptionRow.
func (subscriptionRow) TableName() string { return "billing_subscriptions" }

// subscriptionsTable: subscriptions are scoped through their client
// (reseller subtree and mode) and carry the client's mode.
var subscriptionsTable = &table{
	name: "billing_subscriptions", noun: "subscription",
	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{
		"id": "id", "clients_id": "clients_id", "plans_id": "plans_id", "prices_id": "prices_id", "status": "status",
		"current_period_end": "current_period_end", "cancel_comment": "cancel_comment",
		"created_at": "created_at", "updated_at": "updated_at",
	},
}

// subscriptionWritable maps the fields UpdateSubscription may write (the
// lifecycle's state); due_at is always written with them.
var subscriptionWritable = map[string]string{
	"plans_id": "plans_id", "prices_id": "prices_id", "status": "status", "seats": "seats", "schedule": "schedule",
	"currency": "currency", "trial_ends_at": "trial_ends_at", "billing_anchor": "billing_anchor",
	"current_period_start": "current_period_start", "current_period_end": "current_period_end", "cancel_at": "cancel_at",
	"cancel_refund_type": "cancel_refund_type", "cancel_comment": "cancel_comment", "canceled_at": "canceled_at",
	"ended_at": "ended_at", "pending_plans_id": "pending_plans_id", "pending_prices_id": "pending_prices_id",
	"metadata": "metadata",
}

func subscriptionRowOf(sub *service.Subscription) subscriptionRow {
	return subscriptionRow{
		ID: sub.ID, ClientsID: sub.ClientsID, PlansID: sub.PlansID, PricesID: sub.PricesID, Status: sub.Status,
		Seats: sub.Seats, Schedule: sub.Schedule, Currency: sub.Currency, Timezone: sub.Timezone,
		TrialEndsAt: dbTimePtr(sub.TrialEndsAt), BillingAnchor: dbTimePtr(sub.BillingAnchor),
		CurrentPeriodStart: dbTime(sub.CurrentPeriodStart), CurrentPeriodEnd: dbTime(sub.CurrentPeriodEnd),
		CancelAt: dbTimePtr(sub.CancelAt), CancelRefundType: sub.CancelRefundType, CancelComment: sub.CancelComment,
		CanceledAt: dbTimePtr(sub.CanceledAt), EndedAt: dbTimePtr(sub.EndedAt), PendingPlansID: sub.PendingPlansID,
		PendingPricesID: sub.PendingPricesID, DueAt: dbTimePtr(sub.NextWorkAt()), Metadata: jsonObject(sub.Metadata),
		LiveMode: sub.LiveMode, CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt,
	}
}

func (r *subscriptionRow) toService() *service.Subscription {
	return &service.Subscription{
		ID: r.ID, ClientsID: r.ClientsID, PlansID: r.PlansID, PricesID: r.PricesID, Status: r.Status, Seats: r.Seats,
		Schedule: r.Schedule, Currency: r.Currency, Timezone: r.Timezone, TrialEndsAt: utcPtr(r.TrialEndsAt),
		BillingAnchor: utcPtr(r.BillingAnchor), CurrentPeriodStart: r.CurrentPeriodStart.UTC(),
		CurrentPeriodEnd: r.CurrentPeriodEnd.UTC(), CancelAt: utcPtr(r.CancelAt), CancelRefundType: r.CancelRefundType,
		CancelComment: r.CancelComment, CanceledAt: utcPtr(r.CanceledAt), EndedAt: utcPtr(r.EndedAt),
		PendingPlansID: r.PendingPlansID, PendingPricesID: r.PendingPricesID, Metadata: map[string]any(r.Metadata),
		LiveMode: r.LiveMode, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// FindSubscription returns subscription id if the principal may see its
// client. Errors: CodeNotFound (missing or out of scope), CodeUnavailable,
// CodeInternal.
func (s *Store) FindSubscription(ctx context.Context, id int64) (*service.Subscription, error) {
	row, err := findRow[subscriptionRow](ctx, s.conn(ctx), subscriptionsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SearchSubscriptions lists the subscriptions in scope matching q (up to
// q.Limit+1). Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchSubscriptions(ctx context.Context, q service.Query) ([]*service.Subscription, error) {
	rows, err := searchRows[subscriptionRow](ctx, s.conn(ctx), subscriptionsTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Subscription, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CountSubscriptions counts the subscriptions in scope matching q. Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) CountSubscriptions(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), subscriptionsTable, q)
}

// CreateSubscription stores sub for a client in the principal's scope, in
// the principal's mode, and sets its ID, LiveMode and timestamps (times are
// kept in UTC to the microsecond). Errors: CodeNotFound (client out of
// scope), CodeConflict (a plan or price that does not exist),
// CodeUnavailable, CodeInternal.
func (s *Store) CreateSubscription(ctx context.Context, sub *service.Subscription) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindClient(ctx, sub.ClientsID); err != nil {
			return err
		}
		row := subscriptionRowOf(sub)
		row.ID, row.LiveMode = 0, pr.Live
		row.CreatedAt = dbTime(sub.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("subscription", nil))
		}
		*sub = *row.toService()
		return nil
	})
}

// UpdateSubscription writes the named json fields of sub, its due time and
// updated_at. Errors: CodeNotFound, CodeConflict, CodeUnavailable,
// CodeInternal (a field that cannot be written).
func (s *Store) UpdateSubscription(ctx context.Context, sub *service.Subscription, fields []string) error {
	cols, err := columnsOf(subscriptionsTable, subscriptionWritable, fields)
	if err != nil {
		return err
	}
	row := subscriptionRowOf(sub)
	row.UpdatedAt = now()
	if err := updateRow(ctx, s.wconn(ctx), subscriptionsTable, sub.ID, &row, append(cols, "due_at")); err != nil {
		return err
	}
	*sub = *row.toService()
	return nil
}

// LockSubscription returns subscription id from the principal's scope with
// its row locked until the transaction of ctx ends: SELECT … FOR UPDATE on
// PostgreSQL; on SQLite the transaction holds the database write lock from
// its start. Call it inside InTx (outside one it is CodeInternal). Errors:
// CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) LockSubscription(ctx context.Context, id int64) (*service.Subscription, error) {
	if s.txFrom(ctx) == nil {
		return nil, service.Internal(errNoTx)
	}
	db := s.wconn(ctx)
	if s.dialect == DialectPostgres {
		db = db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Table: clause.Table{Name: subscriptionsTable.name}})
	}
	row, err := findRow[subscriptionRow](ctx, db, subscriptionsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// DueSubscriptions returns up to limit ids of subscriptions in the
// principal's scope whose due time is at or before now, earliest first,
// leaving out skip. Errors: CodeUnavailable, CodeInternal.
func (s *Store) DueSubscriptions(ctx context.Context, now time.Time, limit int, skip []int64) ([]int64, error) {
	tx, err := scoped(ctx, s.conn(ctx), subscriptionsTable)
	if err != nil {
		return nil, err
	}
	tx = tx.Where("billing_subscriptions.due_at IS NOT NULL AND billing_subscriptions.due_at <= ?", dbTime(now))
	if len(skip) > 0 {
		tx = tx.Where("billing_subscriptions.id NOT IN ?", skip)
	}
	var ids []int64
	err = tx.Order("billing_subscriptions.due_at, billing_subscriptions.id").Limit(limit).
		Pluck("billing_subscriptions.id", &ids).Error
	if err != nil {
		return nil, translate(ctx, err, about("subscription", nil))
	}
	return ids, nil
}

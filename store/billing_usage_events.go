package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/billgate/billgate/service"
)

// usageEventRow is a row of billing_usage_events.
type usageEventRow struct {
	ID              int64      `gorm:"column:id;primaryKey"`
	SubscriptionsID int64      `gorm:"column:subscriptions_id"`
	ClientsID       int64      `gorm:"column:clients_id"`
	MetricsID       int64      `gorm:"column:metrics_id"`
	EventID         string     `gorm:"column:event_id"`
	Code            string     `gorm:"column:code"`
	ValueMicros     int64      `gorm:"column:value_micros"`
	UniqueKey       *string    `gorm:"column:unique_key"`
	Properties      jsonObject `gorm:"column:properties"`
	OccurredAt      time.Time  `gorm:"column:occurred_at"`
	LiveMode        bool       `gorm:"column:live_mode"`
	CreatedAt       time.Time  `gorm:"column:created_at;autoCreateTime:false"`
}

// TableName tells gorm the table of usageEventRow.
func (usageEventRow) TableName() string { return "billing_usage_events" }

// usageEventsTable: usage events are scoped through their client and carry
// its mode. Append-only.
var usageEventsTable = &table{
	name: "billing_usage_events", noun: "usage event",
	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{
		"id": "id", "subscriptions_id": "subscriptions_id", "clients_id": "clients_id", "metrics_id": "metrics_id",
		"event_id": "event_id", "occurred_at": "occurred_at", "created_at": "created_at",
	},
}

func (r *usageEventRow) toService() *service.UsageEvent {
	return &service.UsageEvent{ID: r.ID, EventID: r.EventID, SubscriptionsID: r.SubscriptionsID, ClientsID: r.ClientsID,
		MetricsID: r.MetricsID, Code: r.Code, Value: service.Decimal{Micros: r.ValueMicros}, Properties: map[string]any(r.Properties),
		OccurredAt: r.OccurredAt.UTC(), LiveMode: r.LiveMode, CreatedAt: r.CreatedAt.UTC(), UniqueKey: r.UniqueKey}
}

// usageTargetRow is the answer of usageTargetSQL.
type usageTargetRow struct {
	SubscriptionsID int64   `gorm:"column:subscriptions_id"`
	SubStatus       string  `gorm:"column:sub_status"`
	ClientsID       int64   `gorm:"column:clients_id"`
	ClientStatus    string  `gorm:"column:client_status"`
	MetricID        *int64  `gorm:"column:metric_id"`
	MetricCode      *string `gorm:"column:metric_code"`
	MetricName      *string `gorm:"column:metric_name"`
	Aggregation     *string `gorm:"column:aggregation"`
	Property        *string `gorm:"column:property"`
	PendingLimits   bool    `gorm:"column:pending_limits"`
}

// usageTargetSQL reads the subscription, its client's status, the metric of
// the event's code among the metrics of the plan's reseller and mode, and
// whether the client has limits that have not fired — one indexed query.
const usageTargetSQL = `SELECT billing_subscriptions.id AS subscriptions_id, billing_subscriptions.status AS sub_status,
	billing_subscriptions.clients_id AS clients_id, uc.status AS client_status,
	um.id AS metric_id, um.code AS metric_code, um.name AS metric_name, um.aggregation AS aggregation, um.property AS property,
	EXISTS (SELECT 1 FROM billing_usage_limits ul WHERE ul.clients_id = billing_subscriptions.clients_id AND ul.fired_at IS NULL) AS pending_limits
FROM billing_subscriptions
JOIN clients uc ON uc.id = billing_subscriptions.clients_id
JOIN billing_plans up ON up.id = billing_subscriptions.plans_id
LEFT JOIN billing_metrics um ON um.code = ? AND um.live_mode = billing_subscriptions.live_mode
	AND COALESCE(um.resellers_id, 0) = COALESCE(up.resellers_id, 0)
WHERE billing_subscriptions.id = ?`

// UsageTarget reads what recording an event of metric code for subscription
// subID needs; Metric is nil when the plan's reseller has no such metric.
// Errors: CodeNotFound (subscription missing or out of scope),
// CodeUnavailable, CodeInternal.
func (s *Store) UsageTarget(ctx context.Context, subID int64, code string) (*service.UsageTarget, error) {
	cond, args, err := scopeCond(service.PrincipalFrom(ctx), subscriptionsTable)
	if err != nil {
		return nil, err
	}
	q := usageTargetSQL
	if cond != "" {
		q += " AND " + cond
	}
	var rows []usageTargetRow
	if err := s.conn(ctx).Raw(q, append([]any{code, subID}, args...)...).Scan(&rows).Error; err != nil {
		return nil, translate(ctx, err, about("subscription", subID))
	}
	if len(rows) == 0 {
		return nil, service.NotFound("subscription", subID)
	}
	r := rows[0]
	t := &service.UsageTarget{SubscriptionsID: r.SubscriptionsID, SubStatus: r.SubStatus, ClientsID: r.ClientsID,
		ClientStatus: r.ClientStatus, PendingLimits: r.PendingLimits}
	if r.MetricID != nil {
		t.Metric = &service.Metric{ID: *r.MetricID, Code: deref(r.MetricCode), Name: deref(r.MetricName),
			Aggregation: deref(r.Aggregation), Property: deref(r.Property)}
	}
	return t, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CreateUsageEvent stores e for a subscription in the principal's scope and
// mode in one statement — INSERT … SELECT from the scoped subscription … ON
// CONFLICT (subscription, event_id) DO NOTHING — so a concurrent or repeated
// event_id is stored once and the transaction goes on; then created is
// false and e becomes the stored event. Errors: CodeNotFound (subscription
// out of scope), CodeUnavailable, CodeInternal.
func (s *Store) CreateUsageEvent(ctx context.Context, e *service.UsageEvent) (bool, error) {
	cond, args, err := scopeCond(service.PrincipalFrom(ctx), subscriptionsTable)
	if err != nil {
		return false, err
	}
	typed := func(typ string) string {
		if s.dialect == DialectPostgres {
			return "CAST(? AS " + typ + ")"
		}
		return "?"
	}
	var q strings.Builder
	fmt.Fprintf(&q, `INSERT INTO billing_usage_events (subscriptions_id, clients_id, metrics_id, event_id, code, value_micros,
	unique_key, properties, occurred_at, live_mode, created_at)
SELECT billing_subscriptions.id, billing_subscriptions.clients_id, %s, %s, %s, %s, %s, %s, %s, billing_subscriptions.live_mode, %s
FROM billing_subscriptions WHERE billing_subscriptions.id = ?`,
		typed("BIGINT"), typed("TEXT"), typed("TEXT"), typed("BIGINT"), typed("TEXT"), typed("JSONB"), typed("TIMESTAMPTZ"), typed("TIMESTAMPTZ"))
	if cond != "" {
		q.WriteString(" AND " + cond)
	}
	q.WriteString(" ON CONFLICT (subscriptions_id, event_id) DO NOTHING RETURNING id, clients_id, live_mode")
	props, err := jsonObject(e.Properties).Value()
	if err != nil {
		return false, service.Internal(err)
	}
	at := dbTime(e.OccurredAt)
	params := append([]any{e.MetricsID, e.EventID, e.Code, e.Value.Micros, e.UniqueKey, props, at, dbTime(e.CreatedAt), e.SubscriptionsID}, args...)
	var stored []usageEventRow
	if err := s.wconn(ctx).Raw(q.String(), params...).Scan(&stored).Error; err != nil {
		return false, translate(ctx, err, about("usage event", e.EventID))
	}
	if len(stored) == 1 { // inserted: what the row holds is known
		e.ID, e.ClientsID, e.LiveMode = stored[0].ID, stored[0].ClientsID, stored[0].LiveMode
		e.OccurredAt, e.CreatedAt = at, dbTime(e.CreatedAt)
		return true, nil
	}
	tx, err := scoped(ctx, s.wconn(ctx), usageEventsTable)
	if err != nil {
		return false, err
	}
	var row usageEventRow
	err = tx.Where("billing_usage_events.subscriptions_id = ? AND billing_usage_events.event_id = ?", e.SubscriptionsID, e.EventID).Take(&row).Error
	if err != nil { // no subscription in scope: nothing was inserted, nothing is there
		return false, translate(ctx, err, about("subscription", e.SubscriptionsID))
	}
	*e = *row.toService()
	return false, nil
}

// SearchUsageEvents lists the usage events in scope matching q. Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) SearchUsageEvents(ctx context.Context, q service.Query) ([]*service.UsageEvent, error) {
	rows, err := searchRows[usageEventRow](ctx, s.conn(ctx), usageEventsTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.UsageEvent, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CountUsageEvents counts the usage events in scope matching q. Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) CountUsageEvents(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), usageEventsTable, q)
}

// aggregateSQL is the SQL aggregate of each aggregation, in millionths.
var aggregateSQL = map[string]string{
	service.AggSum:         "CAST(COALESCE(SUM(billing_usage_events.value_micros), 0) AS BIGINT)",
	service.AggCount:       "CAST(COUNT(*) AS BIGINT) * 1000000",
	service.AggMax:         "CAST(COALESCE(MAX(billing_usage_events.value_micros), 0) AS BIGINT)",
	service.AggUniqueCount: "CAST(COUNT(DISTINCT billing_usage_events.unique_key) AS BIGINT) * 1000000",
}

// AggregateUsage aggregates the events of subscription subID and metric m
// that occurred in [from, to), in the principal's scope, as m says (latest:
// the value of the last event). Errors: CodeUnavailable, CodeInternal.
func (s *Store) AggregateUsage(ctx context.Context, subID int64, m *service.Metric, from, to time.Time) (service.Decimal, error) {
	tx, err := scoped(ctx, s.conn(ctx), usageEventsTable)
	if err != nil {
		return service.Decimal{}, err
	}
	tx = tx.Where(`billing_usage_events.subscriptions_id = ? AND billing_usage_events.metrics_id = ?
		AND billing_usage_events.occurred_at >= ? AND billing_usage_events.occurred_at < ?`, subID, m.ID, dbTime(from), dbTime(to))
	var v []int64
	if m.Aggregation == service.AggLatest {
		err = tx.Order("billing_usage_events.occurred_at DESC, billing_usage_events.id DESC").Limit(1).
			Pluck("billing_usage_events.value_micros", &v).Error
	} else {
		agg, ok := aggregateSQL[m.Aggregation]
		if !ok {
			return service.Decimal{}, service.Internal(fmt.Errorf("metric %d: unknown aggregation %q", m.ID, m.Aggregation))
		}
		err = tx.Select(agg).Scan(&v).Error
	}
	if err != nil {
		return service.Decimal{}, translate(ctx, err, about("usage event", nil))
	}
	if len(v) == 0 {
		return service.Decimal{}, nil
	}
	return service.Decimal{Micros: v[0]}, nil
}

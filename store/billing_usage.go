package store

import (
	"context"
	"time"

	"github.com/billgate/billgate/service"
)

// metricRow is a row of billing_metrics.
type metricRow struct {
	ID          int64     `gorm:"column:id;primaryKey"`
	ResellersID *int64    `gorm:"column:resellers_id"`
	Code        string    `gorm:"column:code"`
	Name        string    `gorm:"column:name"`
	Aggregation string    `gorm:"column:aggregation"`
	Property    string    `gorm:"column:property"`
	LiveMode    bool      `gorm:"column:live_mode"`
	CreatedAt   time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt   time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of metricRow.
func (metricRow) TableName() string { return "billing_metrics" }

// metricsTable: metrics belong to a reseller (NULL: the root) and a mode.
var metricsTable = &table{
	name: "billing_metrics", noun: "metric",
	scope: scopeSpec{resellerColumn: "resellers_id", liveMode: true},
	fields: map[string]string{
		"id": "id", "code": "code", "name": "name", "aggregation": "aggregation", "resellers_id": "resellers_id",
		"created_at": "created_at", "updated_at": "updated_at",
	},
}

var metricWritable = map[string]string{"name": "name"}

func (r *metricRow) toService() *service.Metric {
	return &service.Metric{ID: r.ID, ResellersID: r.ResellersID, Code: r.Code, Name: r.Name, Aggregation: r.Aggregation,
		Property: r.Property, LiveMode: r.LiveMode, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// FindMetric returns metric id from the principal's scope. Errors:
// CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) FindMetric(ctx context.Context, id int64) (*service.Metric, error) {
	row, err := findRow[metricRow](ctx, s.conn(ctx), metricsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// FindMetricByCode returns the metric called code owned by reseller
// resellerID (nil: the root) in the principal's scope and mode. Errors:
// CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) FindMetricByCode(ctx context.Context, code string, resellerID *int64) (*service.Metric, error) {
	tx, err := scoped(ctx, s.conn(ctx), metricsTable)
	if err != nil {
		return nil, err
	}
	owner := int64(0)
	if resellerID != nil {
		owner = *resellerID
	}
	var row metricRow
	err = tx.Where("billing_metrics.code = ? AND COALESCE(billing_metrics.resellers_id, 0) = ?", code, owner).Take(&row).Error
	if err != nil {
		return nil, translate(ctx, err, about("metric", code))
	}
	return row.toService(), nil
}

// SearchMetrics lists the metrics in scope matching q (up to q.Limit+1).
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchMetrics(ctx context.Context, q service.Query) ([]*service.Metric, error) {
	rows, err := searchRows[metricRow](ctx, s.conn(ctx), metricsTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Metric, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CreateMetric stores m under m.ResellersID in the principal's mode and sets
// its ID and timestamps. Errors: CodeNotFound (reseller out of scope),
// CodeConflict (the code is taken in the reseller and mode),
// CodeUnavailable, CodeInternal.
func (s *Store) CreateMetric(ctx context.Context, m *service.Metric) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if err := s.checkOwner(ctx, m.ResellersID); err != nil {
			return err
		}
		at := dbTime(m.CreatedAt)
		row := metricRow{ResellersID: m.ResellersID, Code: m.Code, Name: m.Name, Aggregation: m.Aggregation, Property: m.Property,
			LiveMode: pr.Live, CreatedAt: at, UpdatedAt: at}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, subject{what: "metric"})
		}
		*m = *row.toService()
		return nil
	})
}

// UpdateMetric writes the named fields of m (name) and updated_at. Errors:
// CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) UpdateMetric(ctx context.Context, m *service.Metric, fields []string) error {
	cols, err := columnsOf(metricsTable, metricWritable, fields)
	if err != nil {
		return err
	}
	row := metricRow{Name: m.Name, UpdatedAt: now()}
	if err := updateRow(ctx, s.wconn(ctx), metricsTable, m.ID, &row, cols); err != nil {
		return err
	}
	m.UpdatedAt = row.UpdatedAt
	return nil
}

// DeleteMetric deletes metric id from the principal's scope. Errors:
// CodeNotFound, CodeConflict (events measured it), CodeUnavailable,
// CodeInternal.
func (s *Store) DeleteMetric(ctx context.Context, id int64) error {
	return deleteRow[metricRow](ctx, s.wconn(ctx), metricsTable, id, subject{what: "metric", id: id, owns: "usage events"})
}

// usageLimitRow is a row of billing_usage_limits.
type usageLimitRow struct {
	ID        int64      `gorm:"column:id;primaryKey"`
	ClientsID int64      `gorm:"column:clients_id"`
	Amount    int64      `gorm:"column:amount"`
	Action    string     `gorm:"column:action"`
	FiredAt   *time.Time `gorm:"column:fired_at"`
	FiredCost *int64     `gorm:"column:fired_cost"`
	LiveMode  bool       `gorm:"column:live_mode"`
	CreatedAt time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of usageLimitRow.
func (usageLimitRow) TableName() string { return "billing_usage_limits" }

// usageLimitsTable: a client's usage limits, scoped through the client.
var usageLimitsTable = &table{
	name: "billing_usage_limits", noun: "usage limit",
	scope: scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{
		"id": "id", "clients_id": "clients_id", "amount": "amount", "action": "action",
		"created_at": "created_at", "updated_at": "updated_at",
	},
}

func (r *usageLimitRow) toService() *service.UsageLimit {
	return &service.UsageLimit{ID: r.ID, ClientsID: r.ClientsID, Amount: r.Amount, Action: r.Action, FiredAt: utcPtr(r.FiredAt),
		FiredCost: r.FiredCost, LiveMode: r.LiveMode, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// FindUsageLimit returns usage limit id if the principal may see its client.
// Errors: CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) FindUsageLimit(ctx context.Context, id int64) (*service.UsageLimit, error) {
	row, err := findRow[usageLimitRow](ctx, s.conn(ctx), usageLimitsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SearchUsageLimits lists the usage limits in scope matching q. Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) SearchUsageLimits(ctx context.Context, q service.Query) ([]*service.UsageLimit, error) {
	rows, err := searchRows[usageLimitRow](ctx, s.conn(ctx), usageLimitsTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.UsageLimit, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CreateUsageLimit stores l for a client in the principal's scope and mode.
// Errors: CodeNotFound (client), CodeUnavailable, CodeInternal.
func (s *Store) CreateUsageLimit(ctx context.Context, l *service.UsageLimit) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindClient(ctx, l.ClientsID); err != nil {
			return err
		}
		at := now()
		row := usageLimitRow{ClientsID: l.ClientsID, Amount: l.Amount, Action: l.Action, LiveMode: pr.Live, CreatedAt: at, UpdatedAt: at}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("usage limit", nil))
		}
		*l = *row.toService()
		return nil
	})
}

// DeleteUsageLimit deletes usage limit id from the principal's scope.
// Errors: CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) DeleteUsageLimit(ctx context.Context, id int64) error {
	return deleteRow[usageLimitRow](ctx, s.wconn(ctx), usageLimitsTable, id, about("usage limit", id))
}

// PendingUsageLimits returns the client's limits that have not fired, by
// amount. Errors: CodeUnavailable, CodeInternal.
func (s *Store) PendingUsageLimits(ctx context.Context, clientID int64) ([]*service.UsageLimit, error) {
	tx, err := scoped(ctx, s.conn(ctx), usageLimitsTable)
	if err != nil {
		return nil, err
	}
	var rows []usageLimitRow
	err = tx.Where("billing_usage_limits.clients_id = ? AND billing_usage_limits.fired_at IS NULL", clientID).
		Order("billing_usage_limits.amount, billing_usage_limits.id").Find(&rows).Error
	if err != nil {
		return nil, translate(ctx, err, about("usage limit", nil))
	}
	out := make([]*service.UsageLimit, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// FireUsageLimit marks limit id fired at `at` for cost, unless it fired
// already: one conditional UPDATE, so of concurrent callers exactly one
// fires it. Errors: CodeUnavailable, CodeInternal.
func (s *Store) FireUsageLimit(ctx context.Context, id int64, at time.Time, cost int64) (bool, error) {
	tx, err := scoped(ctx, s.wconn(ctx), usageLimitsTable)
	if err != nil {
		return false, err
	}
	res := tx.Where("billing_usage_limits.id = ? AND billing_usage_limits.fired_at IS NULL", id).
		Updates(map[string]any{"fired_at": dbTime(at), "fired_cost": cost, "updated_at": now()})
	if res.Error != nil {
		return false, translate(ctx, res.Error, about("usage limit", id))
	}
	return res.RowsAffected == 1, nil
}

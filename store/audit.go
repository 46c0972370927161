package store

import (
	"context"
	"time"

	"github.com/billgate/billgate/service"
)

// auditRow is a row of audit_log.
type auditRow struct {
	ID          int64      `gorm:"column:id;primaryKey"`
	CreatedAt   time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UsersID     *int64     `gorm:"column:users_id"`
	APIKeysID   *int64     `gorm:"column:api_keys_id"`
	RequestID   string     `gorm:"column:request_id"`
	Method      string     `gorm:"column:method"`
	Entity      string     `gorm:"column:entity"`
	EntityID    string     `gorm:"column:entity_id"`
	Action      string     `gorm:"column:action"`
	Changes     jsonObject `gorm:"column:changes"`
	LiveMode    bool       `gorm:"column:live_mode"`
	ResellersID *int64     `gorm:"column:resellers_id"`
}

// TableName tells gorm the table of auditRow.
func (auditRow) TableName() string { return "audit_log" }

// auditTable: an entry belongs to the reseller owning the changed object (NULL:
// the root or global data, seen only by unrestricted principals) and to the
// mode of the call that made the change.
var auditTable = &table{
	name: "audit_log", noun: "audit entry",
	scope: scopeSpec{resellerColumn: "resellers_id", liveMode: true},
	fields: map[string]string{
		"id": "id", "created_at": "created_at", "users_id": "users_id", "api_keys_id": "api_keys_id",
		"request_id": "request_id", "method": "method", "entity": "entity", "entity_id": "entity_id",
		"action": "action", "resellers_id": "resellers_id",
	},
}

func (r *auditRow) toService() *service.AuditEntry {
	return &service.AuditEntry{
		ID: r.ID, CreatedAt: r.CreatedAt.UTC(), UsersID: r.UsersID, APIKeysID: r.APIKeysID, RequestID: r.RequestID,
		Method: r.Method, Entity: r.Entity, EntityID: r.EntityID, Action: r.Action,
		Changes: map[string]any(r.Changes), LiveMode: r.LiveMode, ResellersID: r.ResellersID,
	}
}

// RecordAudit appends e, in the transaction of ctx when there is one (so the
// entry commits or rolls back with the change it records), and sets its ID and
// CreatedAt (now, when zero). Unscoped: e says its own reseller and mode.
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) RecordAudit(ctx context.Context, e *service.AuditEntry) error {
	row := auditRow{
		CreatedAt: dbTime(e.CreatedAt), UsersID: e.UsersID, APIKeysID: e.APIKeysID, RequestID: e.RequestID,
		Method: e.Method, Entity: e.Entity, EntityID: e.EntityID, Action: e.Action, Changes: jsonObject(e.Changes),
		LiveMode: e.LiveMode, ResellersID: e.ResellersID,
	}
	if err := s.wconn(ctx).Create(&row).Error; err != nil {
		return translate(ctx, err, about("audit entry", nil))
	}
	e.ID, e.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// SearchAudit lists the entries of the principal's reseller subtree and mode
// matching q (up to q.Limit+1). Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchAudit(ctx context.Context, q service.Query) ([]*service.AuditEntry, error) {
	rows, err := searchRows[auditRow](ctx, s.conn(ctx), auditTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.AuditEntry, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

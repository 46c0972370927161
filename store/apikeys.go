package store

import (
	"context"
	"time"

	"github.com/billgate/billgate/service"
)

// apiKeyRow is a row of api_keys.
type apiKeyRow struct {
	ID         int64      `gorm:"column:id;primaryKey"`
	UsersID    int64      `gorm:"column:users_id"`
	Mode       string     `gorm:"column:mode"`
	Prefix     string     `gorm:"column:prefix"`
	Hash       string     `gorm:"column:hash"`
	ExpiresAt  *time.Time `gorm:"column:expires_at"`
	LastUsedAt *time.Time `gorm:"column:last_used_at"`
	CreatedAt  time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	APIVersion string     `gorm:"column:api_version"`
}

// TableName tells gorm the table of apiKeyRow.
func (apiKeyRow) TableName() string { return "api_keys" }

// apiKeysTable: keys are scoped through their user; a test-mode principal sees
// only test keys.
var apiKeysTable = &table{
	name: "api_keys", noun: "api key",
	scope: scopeSpec{through: &parentRef{column: "users_id", parent: usersTable}, testOnlyColumn: "mode"},
	fields: map[string]string{
		"id": "id", "users_id": "users_id", "mode": "mode", "prefix": "prefix",
		"created_at": "created_at", "expires_at": "expires_at", "last_used_at": "last_used_at",
	},
}

// apiKeyWritable maps the fields iam.api_keys.update may change to their columns.
var apiKeyWritable = map[string]string{"api_version": "api_version", "expires_at": "expires_at"}

func (r *apiKeyRow) toService() *service.APIKey {
	return &service.APIKey{
		ID: r.ID, UsersID: r.UsersID, Mode: r.Mode, Prefix: r.Prefix, Hash: r.Hash,
		ExpiresAt: utcPtr(r.ExpiresAt), LastUsedAt: utcPtr(r.LastUsedAt), CreatedAt: r.CreatedAt.UTC(),
		APIVersion: r.APIVersion,
	}
}

// FindAPIKey returns key id if the principal may see it (its user in scope; a
// test key for a test-mode principal). Errors: CodeNotFound, CodeUnavailable,
// CodeInternal.
func (s *Store) FindAPIKey(ctx context.Context, id int64) (*service.APIKey, error) {
	row, err := findRow[apiKeyRow](ctx, s.conn(ctx), apiKeysTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SearchAPIKeys lists the keys in scope matching q (up to q.Limit+1). Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) SearchAPIKeys(ctx context.Context, q service.Query) ([]*service.APIKey, error) {
	rows, err := searchRows[apiKeyRow](ctx, s.conn(ctx), apiKeysTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.APIKey, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CountAPIKeys counts the keys in scope matching q. Errors: CodeUnavailable, CodeInternal.
func (s *Store) CountAPIKeys(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), apiKeysTable, q)
}

// CreateAPIKey stores k for a user in the principal's scope and sets its ID and
// CreatedAt (now, when zero). A test-mode principal may create only test keys.
// Errors: CodeNotFound (user missing or out of scope), CodeForbidden (a live key
// from a test-mode principal), CodeConflict (hash taken), CodeUnavailable,
// CodeInternal.
func (s *Store) CreateAPIKey(ctx context.Context, k *service.APIKey) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		p, err := principal(ctx)
		if err != nil {
			return err
		}
		if !p.Live && k.Mode != service.ModeTest {
			return &service.Error{Code: service.CodeForbidden, Message: "a test key cannot create live keys",
				Fields: map[string]string{"mode": "must be test"}}
		}
		if _, err := s.FindUser(ctx, k.UsersID); err != nil {
			return err
		}
		row := apiKeyRow{
			UsersID: k.UsersID, Mode: k.Mode, Prefix: k.Prefix, Hash: k.Hash,
			ExpiresAt: dbTimePtr(k.ExpiresAt), LastUsedAt: dbTimePtr(k.LastUsedAt), CreatedAt: dbTime(k.CreatedAt),
			APIVersion: k.APIVersion,
		}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("api key", nil))
		}
		key := k.Key // the secret is never stored; keep it for the reply
		*k = *row.toService()
		k.Key = key
		return nil
	})
}

// UpdateAPIKey writes the named fields of k (api_version, expires_at) if the
// principal may see the key. Errors: CodeNotFound, CodeUnavailable, CodeInternal
// (a field that cannot be updated).
func (s *Store) UpdateAPIKey(ctx context.Context, k *service.APIKey, fields []string) error {
	cols, err := columnsOf(apiKeysTable, apiKeyWritable, fields)
	if err != nil {
		return err
	}
	row := apiKeyRow{APIVersion: k.APIVersion, ExpiresAt: dbTimePtr(k.ExpiresAt)}
	if err := updateRow(ctx, s.wconn(ctx), apiKeysTable, k.ID, &row, cols); err != nil {
		return err
	}
	k.ExpiresAt = utcPtr(row.ExpiresAt)
	return nil
}

// DeleteAPIKey deletes key id if the principal may see it. Errors: CodeNotFound,
// CodeUnavailable, CodeInternal.
func (s *Store) DeleteAPIKey(ctx context.Context, id int64) error {
	return deleteRow[apiKeyRow](ctx, s.wconn(ctx), apiKeysTable, id, about("api key", id))
}

// APIKeyByHash returns the key with that hash (unscoped). Errors: CodeNotFound,
// CodeUnavailable, CodeInternal.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*service.APIKey, error) {
	var row apiKeyRow
	if err := s.conn(ctx).Where("hash = ?", hash).Take(&row).Error; err != nil {
		return nil, translate(ctx, err, about("api key", "with that hash"))
	}
	return row.toService(), nil
}

// TouchAPIKey sets the last_used_at of key id (unscoped). Errors: CodeNotFound,
// CodeUnavailable, CodeInternal.
func (s *Store) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	res := s.wconn(ctx).Model(&apiKeyRow{}).Where("id = ?", id).Update("last_used_at", dbTime(at))
	if res.Error != nil {
		return translate(ctx, res.Error, about("api key", id))
	}
	if res.RowsAffected == 0 {
		return service.NotFound("api key", id)
	}
	return nil
}

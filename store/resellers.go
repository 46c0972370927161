package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/billgate/billgate/service"
)

// resellerRow is a row of resellers.
type resellerRow struct {
	ID        int64     `gorm:"column:id;primaryKey"`
	Name      string    `gorm:"column:name"`
	ParentID  *int64    `gorm:"column:parent_id"`
	Path      string    `gorm:"column:path"`
	CreatedAt time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of resellerRow.
func (resellerRow) TableName() string { return "resellers" }

// resellersTable: a restricted principal sees its own reseller and descendants.
var resellersTable = &table{
	name: "resellers", noun: "reseller",
	scope: scopeSpec{pathColumn: "path"},
	fields: map[string]string{
		"id": "id", "name": "name", "parent_id": "parent_id",
		"created_at": "created_at", "updated_at": "updated_at",
	},
}

// resellerWritable maps the fields UpdateReseller may write to their columns.
var resellerWritable = map[string]string{"name": "name", "parent_id": "parent_id"}

func (r *resellerRow) toService() *service.Reseller {
	return &service.Reseller{
		ID: r.ID, Name: r.Name, ParentID: r.ParentID, Path: r.Path,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// childPath is the materialised path of reseller id under parentPath ("" for the root).
func childPath(parentPath string, id int64) string {
	if parentPath == "" {
		parentPath = "/"
	}
	return parentPath + strconv.FormatInt(id, 10) + "/"
}

// FindReseller returns reseller id from the principal's subtree. Errors:
// CodeNotFound (missing or out of scope), CodeUnavailable, CodeInternal.
func (s *Store) FindReseller(ctx context.Context, id int64) (*service.Reseller, error) {
	row, err := findRow[resellerRow](ctx, s.conn(ctx), resellersTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SearchResellers lists the resellers of the principal's subtree matching q (up
// to q.Limit+1). Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchResellers(ctx context.Context, q service.Query) ([]*service.Reseller, error) {
	rows, err := searchRows[resellerRow](ctx, s.conn(ctx), resellersTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Reseller, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CountResellers counts the resellers of the principal's subtree matching q.
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) CountResellers(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), resellersTable, q)
}

// ResellerPath returns the materialised path of reseller id (unscoped). Errors:
// CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) ResellerPath(ctx context.Context, id int64) (string, error) {
	var row resellerRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return "", translate(ctx, err, about("reseller", id))
	}
	return row.Path, nil
}

// CreateReseller stores r under r.ParentID (nil: the root, which a restricted
// principal cannot use) and sets its ID, Path and timestamps (now, when zero).
// Errors: CodeNotFound (parent missing or out of scope), CodeUnavailable,
// CodeInternal.
func (s *Store) CreateReseller(ctx context.Context, r *service.Reseller) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		parentPath, err := s.parentPath(ctx, r.ParentID)
		if err != nil {
			return err
		}
		row := resellerRow{Name: r.Name, ParentID: r.ParentID, Path: parentPath, CreatedAt: dbTime(r.CreatedAt)}
		row.UpdatedAt = row.CreatedAt
		if !r.UpdatedAt.IsZero() {
			row.UpdatedAt = dbTime(r.UpdatedAt)
		}
		db := s.wconn(ctx)
		if err := db.Create(&row).Error; err != nil {
			return translate(ctx, err, about("reseller", nil))
		}
		// The path needs the id: set it in the same transaction.
		row.Path = childPath(parentPath, row.ID)
		if err := db.Model(&row).Update("path", row.Path).Error; err != nil {
			return translate(ctx, err, about("reseller", row.ID))
		}
		*r = *row.toService()
		return nil
	})
}

// parentPath returns the path of the parent of a new or moved reseller: "" for
// the root (refused as not found for a restricted principal), else the path of
// the parent, which must be in the principal's scope (locked on PostgreSQL so a
// concurrent move cannot change it under us).
func (s *Store) parentPath(ctx context.Context, parentID *int64) (string, error) {
	p, err := principal(ctx)
	if err != nil {
		return "", err
	}
	if parentID == nil {
		if p.Restricted() {
			return "", service.NotFound("reseller", 0)
		}
		return "", nil
	}
	par, err := s.lockReseller(ctx, *parentID)
	if err != nil {
		return "", err
	}
	return par.Path, nil
}

// lockReseller reads reseller id in scope, FOR UPDATE on PostgreSQL (SQLite
// transactions hold the database write lock already).
func (s *Store) lockReseller(ctx context.Context, id int64) (*resellerRow, error) {
	db := s.wconn(ctx)
	if s.dialect == DialectPostgres {
		db = db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	return findRow[resellerRow](ctx, db, resellersTable, id)
}

// UpdateReseller writes the named fields of r ("name", "parent_id") and
// updated_at. A new parent_id moves the reseller with its subtree: one UPDATE
// rewrites the path of every descendant. Errors: CodeNotFound (r or the new
// parent missing or out of scope; the root for a restricted principal),
// CodeUnprocessable "cycle" (a move under itself), CodeUnavailable, CodeInternal.
func (s *Store) UpdateReseller(ctx context.Context, r *service.Reseller, fields []string) error {
	cols, err := columnsOf(resellersTable, resellerWritable, fields)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.lockReseller(ctx, r.ID)
		if err != nil {
			return err
		}
		newPath := cur.Path
		for _, f := range fields {
			if f != "parent_id" {
				continue
			}
			parentPath, err := s.parentPath(ctx, r.ParentID)
			if err != nil {
				return err
			}
			if strings.HasPrefix(parentPath, cur.Path) {
				return service.Unprocessable("cycle", "cannot move reseller %d under itself or its descendant %d", r.ID, *r.ParentID)
			}
			newPath = childPath(parentPath, r.ID)
		}
		row := resellerRow{ID: r.ID, Name: r.Name, ParentID: r.ParentID, UpdatedAt: now()}
		if err := updateRow(ctx, s.wconn(ctx), resellersTable, r.ID, &row, cols); err != nil {
			return err
		}
		if newPath != cur.Path {
			// The reseller and its descendants: /old/ prefix → /new/ prefix.
			err := s.wconn(ctx).Exec("UPDATE resellers SET path = CAST(? AS TEXT) || substr(path, ?) WHERE path LIKE ?",
				newPath, len(cur.Path)+1, cur.Path+"%").Error
			if err != nil {
				return translate(ctx, err, about("reseller", r.ID))
			}
		}
		r.Path, r.UpdatedAt = newPath, row.UpdatedAt
		r.CreatedAt = cur.CreatedAt.UTC()
		return nil
	})
}

// DeleteReseller deletes reseller id from the principal's subtree. Errors:
// CodeNotFound (missing or out of scope), CodeConflict when users, clients or
// child resellers still reference it ("reseller N still owns users, clients or
// resellers"), CodeUnavailable, CodeInternal.
func (s *Store) DeleteReseller(ctx context.Context, id int64) error {
	return deleteRow[resellerRow](ctx, s.wconn(ctx), resellersTable, id,
		subject{what: "reseller", id: id, owns: "users, clients or resellers"})
}

package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/billgate/billgate/service"
)

// userRow is a row of users.
type userRow struct {
	ID           int64       `gorm:"column:id;primaryKey"`
	Login        string      `gorm:"column:login"`
	PasswordHash string      `gorm:"column:password_hash"`
	Role         string      `gorm:"column:role"`
	ResellersID  *int64      `gorm:"column:resellers_id"`
	Timezone     string      `gorm:"column:timezone"`
	AllowedIPs   jsonStrings `gorm:"column:allowed_ips"`
	Status       string      `gorm:"column:status"`
	CreatedAt    time.Time   `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt    time.Time   `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of userRow.
func (userRow) TableName() string { return "users" }

// usersTable: users belong to a reseller (NULL: the root, seen only by
// unrestricted principals); they have no mode.
var usersTable = &table{
	name: "users", noun: "user",
	scope: scopeSpec{resellerColumn: "resellers_id"},
	fields: map[string]string{
		"id": "id", "login": "login", "role": "role", "status": "status", "resellers_id": "resellers_id",
		"created_at": "created_at", "updated_at": "updated_at",
	},
}

// userWritable maps the fields UpdateUser may write to their columns.
var userWritable = map[string]string{
	"login": "login", "password": "password_hash", "role": "role", "resellers_id": "resellers_id",
	"timezone": "timezone", "allowed_ips": "allowed_ips", "status": "status",
}

func userRowOf(u *service.User) userRow {
	return userRow{
		ID: u.ID, Login: u.Login, PasswordHash: u.PasswordHash, Role: u.Role, ResellersID: u.ResellersID,
		Timezone: u.Timezone, AllowedIPs: jsonStrings(u.AllowedIPs), Status: u.Status,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

func (r *userRow) toService() *service.User {
	ips := []string(r.AllowedIPs)
	if ips == nil {
		ips = []string{}
	}
	return &service.User{
		ID: r.ID, Login: r.Login, PasswordHash: r.PasswordHash, Role: r.Role, ResellersID: r.ResellersID,
		Timezone: r.Timezone, AllowedIPs: ips, Status: r.Status,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// FindUser returns user id from the principal's scope. Errors: CodeNotFound
// (missing or out of scope), CodeUnavailable, CodeInternal.
func (s *Store) FindUser(ctx context.Context, id int64) (*service.User, error) {
	row, err := findRow[userRow](ctx, s.conn(ctx), usersTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SearchUsers lists the users in scope matching q (up to q.Limit+1). Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) SearchUsers(ctx context.Context, q service.Query) ([]*service.User, error) {
	rows, err := searchRows[userRow](ctx, s.conn(ctx), usersTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.User, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CountUsers counts the users in scope matching q. Errors: CodeUnavailable, CodeInternal.
func (s *Store) CountUsers(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), usersTable, q)
}

// CountUsersAll counts every user (unscoped). Errors: CodeUnavailable, CodeInternal.
func (s *Store) CountUsersAll(ctx context.Context) (int64, error) {
	var n int64
	if err := s.conn(ctx).Table(usersTable.name).Count(&n).Error; err != nil {
		return 0, translate(ctx, err, about("user", nil))
	}
	return n, nil
}

// CreateUser stores u under u.ResellersID and sets its ID and timestamps (now,
// when zero). Errors: CodeNotFound (reseller missing or out of scope),
// CodeConflict (login taken: Fields["login"]), CodeUnavailable, CodeInternal.
func (s *Store) CreateUser(ctx context.Context, u *service.User) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.checkOwner(ctx, u.ResellersID); err != nil {
			return err
		}
		row := userRowOf(u)
		row.ID = 0
		row.CreatedAt = dbTime(u.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if !u.UpdatedAt.IsZero() {
			row.UpdatedAt = dbTime(u.UpdatedAt)
		}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("user", nil))
		}
		*u = *row.toService()
		return nil
	})
}

// UpdateUser writes the named json fields of u ("password" writes the hash) and
// updated_at (now). Errors: CodeNotFound (u or a new reseller missing or out of
// scope), CodeConflict (login taken), CodeUnavailable, CodeInternal.
func (s *Store) UpdateUser(ctx context.Context, u *service.User, fields []string) error {
	cols, err := columnsOf(usersTable, userWritable, fields)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if slices.Contains(fields, "resellers_id") {
			if err := s.checkOwner(ctx, u.ResellersID); err != nil {
				return err
			}
		}
		row := userRowOf(u)
		row.UpdatedAt = now()
		if err := updateRow(ctx, s.wconn(ctx), usersTable, u.ID, &row, cols); err != nil {
			return err
		}
		u.UpdatedAt = row.UpdatedAt
		return nil
	})
}

// DeleteUser deletes user id from the principal's scope, with its API keys.
// Errors: CodeNotFound, CodeConflict (still referenced), CodeUnavailable, CodeInternal.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return deleteRow[userRow](ctx, s.wconn(ctx), usersTable, id, about("user", id))
}

// userAuthRow is a user with the path of its reseller.
type userAuthRow struct {
	User         userRow `gorm:"embedded"`
	ResellerPath *string `gorm:"column:reseller_path"`
}

// authUser loads one user (unscoped) matching cond, with ResellerPath set.
func (s *Store) authUser(ctx context.Context, subj subject, cond string, arg any) (*service.User, error) {
	var row userAuthRow
	err := s.conn(ctx).Table("users").
		Select("users.*, resellers.path AS reseller_path").
		Joins("LEFT JOIN resellers ON resellers.id = users.resellers_id").
		Where(cond, arg).Take(&row).Error
	if err != nil {
		return nil, translate(ctx, err, subj)
	}
	u := row.User.toService()
	if row.ResellerPath != nil {
		u.ResellerPath = *row.ResellerPath
	}
	return u, nil
}

// UserForAuth returns user id with its ResellerPath (unscoped). Errors:
// CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) UserForAuth(ctx context.Context, id int64) (*service.User, error) {
	return s.authUser(ctx, about("user", id), "users.id = ?", id)
}

// UserByLogin returns the user with that login, with its ResellerPath
// (unscoped). Errors: CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) UserByLogin(ctx context.Context, login string) (*service.User, error) {
	return s.authUser(ctx, about("user", fmt.Sprintf("%q", login)), "users.login = ?", login)
}

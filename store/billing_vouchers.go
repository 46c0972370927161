package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/billgate/billgate/service"
)

// voucherRow is a row of billing_vouchers.
type voucherRow struct {
	ID             int64      `gorm:"column:id;primaryKey"`
	ResellersID    *int64     `gorm:"column:resellers_id"`
	Code           string     `gorm:"column:code"`
	Name           string     `gorm:"column:name"`
	Type           string     `gorm:"column:type"`
	Percentage     *string    `gorm:"column:percentage"`
	Amount         *int64     `gorm:"column:amount"`
	Currency       *string    `gorm:"column:currency"`
	Cycles         int        `gorm:"column:cycles"`
	ExpiresAt      *time.Time `gorm:"column:expires_at"`
	MaxRedemptions *int       `gorm:"column:max_redemptions"`
	TimesRedeemed  int        `gorm:"column:times_redeemed"`
	Active         bool       `gorm:"column:active"`
	LiveMode       bool       `gorm:"column:live_mode"`
	CreatedAt      time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt      time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of voucherRow.
func (voucherRow) TableName() string { return "billing_vouchers" }

// redemptionRow is a row of billing_voucher_redemptions.
type redemptionRow struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	VouchersID int64     `gorm:"column:vouchers_id"`
	ClientsID  int64     `gorm:"column:clients_id"`
	CyclesLeft int       `gorm:"column:cycles_left"`
	AppliedAt  time.Time `gorm:"column:applied_at"`
	LiveMode   bool      `gorm:"column:live_mode"`
	CreatedAt  time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

// TableName tells gorm the table of redemptionRow.
func (redemptionRow) TableName() string { return "billing_voucher_redemptions" }

// vouchersTable: vouchers belong to a reseller (NULL: the root) and a mode.
var vouchersTable = &table{
	name: "billing_vouchers", noun: "voucher",
	scope: scopeSpec{resellerColumn: "resellers_id", liveMode: true},
	fields: map[string]string{
		"id": "id", "code": "code", "name": "name", "type": "type", "resellers_id": "resellers_id", "active": "active",
		"expires_at": "expires_at", "created_at": "created_at", "updated_at": "updated_at",
	},
}

// redemptionsTable: a voucher applied to a client, scoped through the client.
var redemptionsTable = &table{
	name: "billing_voucher_redemptions", noun: "voucher redemption",
	scope:  scopeSpec{through: &parentRef{column: "clients_id", parent: clientsTable}, liveMode: true},
	fields: map[string]string{"id": "id", "clients_id": "clients_id", "vouchers_id": "vouchers_id", "created_at": "created_at"},
}

var voucherWritable = map[string]string{"name": "name", "active": "active", "expires_at": "expires_at", "max_redemptions": "max_redemptions"}

func voucherRowOf(v *service.Voucher) voucherRow {
	return voucherRow{ID: v.ID, ResellersID: v.ResellersID, Code: v.Code, Name: v.Name, Type: v.Type, Percentage: rateColumn(v.Percentage),
		Amount: v.Amount, Currency: v.Currency, Cycles: v.Cycles, ExpiresAt: dbTimePtr(v.ExpiresAt), MaxRedemptions: v.MaxRedemptions,
		TimesRedeemed: v.TimesRedeemed, Active: v.Active, LiveMode: v.LiveMode, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

func (r *voucherRow) toService() (*service.Voucher, error) {
	v := &service.Voucher{ID: r.ID, ResellersID: r.ResellersID, Code: r.Code, Name: r.Name, Type: r.Type, Amount: r.Amount,
		Currency: r.Currency, Duration: service.DurationOnce, Cycles: r.Cycles, ExpiresAt: utcPtr(r.ExpiresAt),
		MaxRedemptions: r.MaxRedemptions, TimesRedeemed: r.TimesRedeemed, Active: r.Active, LiveMode: r.LiveMode,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.Cycles > 1 {
		v.Duration = service.DurationRepeating
	}
	if r.Percentage != nil {
		p, err := service.ParseTaxRate(*r.Percentage)
		if err != nil {
			return nil, service.Internal(fmt.Errorf("voucher %d: percentage %q: %w", r.ID, *r.Percentage, err))
		}
		v.Percentage = &p
	}
	return v, nil
}

func (r *redemptionRow) toService(code string) *service.VoucherRedemption {
	return &service.VoucherRedemption{ID: r.ID, VouchersID: r.VouchersID, ClientsID: r.ClientsID, Code: code, CyclesLeft: r.CyclesLeft,
		AppliedAt: r.AppliedAt.UTC(), LiveMode: r.LiveMode, CreatedAt: r.CreatedAt.UTC()}
}

// FindVoucher returns voucher id from the principal's scope. Errors:
// CodeNotFound, CodeUnavailable, CodeInternal.
func (s *Store) FindVoucher(ctx context.Context, id int64) (*service.Voucher, error) {
	row, err := findRow[voucherRow](ctx, s.conn(ctx), vouchersTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService()
}

// SearchVouchers lists the vouchers in scope matching q (up to q.Limit+1).
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchVouchers(ctx context.Context, q service.Query) ([]*service.Voucher, error) {
	rows, err := searchRows[voucherRow](ctx, s.conn(ctx), vouchersTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Voucher, len(rows))
	for i := range rows {
		if out[i], err = rows[i].toService(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CreateVoucher stores v under v.ResellersID in the principal's mode and sets
// its ID and timestamps. Errors: CodeNotFound (reseller out of scope),
// CodeConflict (the code is taken in the reseller and mode),
// CodeUnavailable, CodeInternal.
func (s *Store) CreateVoucher(ctx context.Context, v *service.Voucher) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if err := s.checkOwner(ctx, v.ResellersID); err != nil {
			return err
		}
		row := voucherRowOf(v)
		row.ID, row.LiveMode, row.TimesRedeemed = 0, pr.Live, 0
		row.CreatedAt = dbTime(v.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, subject{what: "voucher"})
		}
		out, err := row.toService()
		if err != nil {
			return err
		}
		*v = *out
		return nil
	})
}

// UpdateVoucher writes the named fields of v (name, active, expires_at,
// max_redemptions) and updated_at. Errors: CodeNotFound, CodeUnavailable,
// CodeInternal.
func (s *Store) UpdateVoucher(ctx context.Context, v *service.Voucher, fields []string) error {
	cols, err := columnsOf(vouchersTable, voucherWritable, fields)
	if err != nil {
		return err
	}
	row := voucherRowOf(v)
	row.UpdatedAt = now()
	if err := updateRow(ctx, s.wconn(ctx), vouchersTable, v.ID, &row, cols); err != nil {
		return err
	}
	v.UpdatedAt = row.UpdatedAt
	return nil
}

// DeleteVoucher deletes voucher id from the principal's scope. Errors:
// CodeNotFound, CodeConflict (applied to a client), CodeUnavailable,
// CodeInternal.
func (s *Store) DeleteVoucher(ctx context.Context, id int64) error {
	return deleteRow[voucherRow](ctx, s.wconn(ctx), vouchersTable, id, subject{what: "voucher", id: id, owns: "redemptions (clients it was applied to)"})
}

// CreateRedemption applies voucher r.VouchersID to client r.ClientsID (both
// in the principal's scope and mode) and sets r's ID. Errors: CodeNotFound,
// CodeConflict (already applied to the client), CodeUnavailable,
// CodeInternal.
func (s *Store) CreateRedemption(ctx context.Context, r *service.VoucherRedemption) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindClient(ctx, r.ClientsID); err != nil {
			return err
		}
		row := redemptionRow{VouchersID: r.VouchersID, ClientsID: r.ClientsID, CyclesLeft: r.CyclesLeft, AppliedAt: dbTime(r.AppliedAt),
			LiveMode: pr.Live, CreatedAt: now()}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, subject{what: "voucher redemption"})
		}
		v := r.Voucher
		*r = *row.toService(r.Code)
		r.Voucher = v
		return nil
	})
}

// CountRedemption adds one to voucher id's times_redeemed unless that would
// pass its max_redemptions (one conditional UPDATE, so concurrent
// applications cannot pass the cap). Errors: CodeUnavailable, CodeInternal.
func (s *Store) CountRedemption(ctx context.Context, voucherID int64) (bool, error) {
	tx, err := scoped(ctx, s.wconn(ctx), vouchersTable)
	if err != nil {
		return false, err
	}
	res := tx.Where("billing_vouchers.id = ? AND (billing_vouchers.max_redemptions IS NULL OR billing_vouchers.times_redeemed < billing_vouchers.max_redemptions)", voucherID).
		Updates(map[string]any{"times_redeemed": gorm.Expr("times_redeemed + 1"), "updated_at": now()})
	if res.Error != nil {
		return false, translate(ctx, res.Error, about("voucher", voucherID))
	}
	return res.RowsAffected == 1, nil
}

// LockActiveRedemptions returns the client's redemptions with cycles left,
// oldest first, locked until the transaction of ctx ends, each with its
// voucher — read through the redemption in the principal's mode, whichever
// reseller owns it (the client got it). Errors: CodeUnavailable,
// CodeInternal (outside InTx).
func (s *Store) LockActiveRedemptions(ctx context.Context, clientID int64) ([]*service.VoucherRedemption, error) {
	if s.txFrom(ctx) == nil {
		return nil, service.Internal(errNoTx)
	}
	pr, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	db := s.wconn(ctx)
	if s.dialect == DialectPostgres {
		db = db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Table: clause.Table{Name: redemptionsTable.name}})
	}
	tx, err := scoped(ctx, db, redemptionsTable)
	if err != nil {
		return nil, err
	}
	var rows []redemptionRow
	err = tx.Where("billing_voucher_redemptions.clients_id = ? AND billing_voucher_redemptions.cycles_left > 0", clientID).
		Order("billing_voucher_redemptions.id").Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, translate(ctx, err, about("voucher redemption", nil))
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].VouchersID
	}
	var vrows []voucherRow
	if err := s.wconn(ctx).Where("id IN ? AND live_mode = ?", ids, pr.Live).Find(&vrows).Error; err != nil {
		return nil, translate(ctx, err, about("voucher", nil))
	}
	vouchers := map[int64]*service.Voucher{}
	for i := range vrows {
		v, err := vrows[i].toService()
		if err != nil {
			return nil, err
		}
		vouchers[v.ID] = v
	}
	out := make([]*service.VoucherRedemption, 0, len(rows))
	for i := range rows {
		v := vouchers[rows[i].VouchersID]
		if v == nil {
			return nil, service.Internal(fmt.Errorf("redemption %d: voucher %d not found", rows[i].ID, rows[i].VouchersID))
		}
		r := rows[i].toService(v.Code)
		r.Voucher = v
		out = append(out, r)
	}
	return out, nil
}

// UseRedemption takes one cycle off redemption id. Errors: CodeNotFound (none
// left, or out of scope), CodeUnavailable, CodeInternal.
func (s *Store) UseRedemption(ctx context.Context, id int64) error {
	tx, err := scoped(ctx, s.wconn(ctx), redemptionsTable)
	if err != nil {
		return err
	}
	res := tx.Where("billing_voucher_redemptions.id = ? AND billing_voucher_redemptions.cycles_left > 0", id).
		Update("cycles_left", gorm.Expr("cycles_left - 1"))
	if res.Error != nil {
		return translate(ctx, res.Error, about("voucher redemption", id))
	}
	if res.RowsAffected == 0 {
		return service.NotFound("voucher redemption", id)
	}
	return nil
}

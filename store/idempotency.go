package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/billgate/billgate/service"
)

// idempotencyRow is a row of idempotency_keys.
type idempotencyRow struct {
	Scope      string    `gorm:"column:scope;primaryKey"`
	Key        string    `gorm:"column:key;primaryKey"`
	Method     string    `gorm:"column:method"`
	ParamsHash string    `gorm:"column:params_hash"`
	Response   *string   `gorm:"column:response"`
	CreatedAt  time.Time `gorm:"column:created_at;autoCreateTime:false"`
	ExpiresAt  time.Time `gorm:"column:expires_at"`
}

// TableName tells gorm the table of idempotencyRow.
func (idempotencyRow) TableName() string { return "idempotency_keys" }

func (r *idempotencyRow) toService() *service.IdempotencyRecord {
	rec := &service.IdempotencyRecord{
		Scope: r.Scope, Key: r.Key, Method: r.Method, ParamsHash: r.ParamsHash,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.Response != nil {
		rec.Response = json.RawMessage(*r.Response)
	}
	return rec
}

// The claim of one key: its owner and key, and (Release, Complete) the instant
// of the claim, which tells this claim from a later one of the same key.
const (
	idemKeyCond   = `idempotency_keys.scope = ? AND idempotency_keys."key" = ?`
	idemClaimCond = idemKeyCond + ` AND idempotency_keys.created_at = ? AND idempotency_keys.response IS NULL`
)

// claimAttempts bounds the insert-or-read loop of a claim: the holder can be
// released between our insert (refused) and our read; then we insert again.
const claimAttempts = 3

// ClaimIdempotencyKey stores rec as in flight and returns nil, or returns the
// record holding (rec.Scope, rec.Key). First, in the same short transaction, a
// holder that has expired (expires_at ≤ rec.CreatedAt) or is still in flight
// but was created before staleBefore is deleted; then INSERT … ON CONFLICT DO
// NOTHING; when nothing was inserted the holder is read and returned. Concurrent
// claims of one key have exactly one winner on both databases (PostgreSQL: the
// losing insert waits for the winner's commit). Unscoped: rec.Scope is the
// owner. rec's times are normalised as stored (UTC, microseconds; a zero
// CreatedAt becomes now), so Complete and Release match this claim. Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, rec *service.IdempotencyRecord, staleBefore time.Time) (*service.IdempotencyRecord, error) {
	rec.CreatedAt = dbTime(rec.CreatedAt)
	rec.ExpiresAt = dbTime(rec.ExpiresAt)
	row := idempotencyRow{Scope: rec.Scope, Key: rec.Key, Method: rec.Method, ParamsHash: rec.ParamsHash,
		CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt}
	subj := about("idempotency key", strconv.Quote(rec.Key))
	var held *service.IdempotencyRecord
	err := s.InTx(ctx, func(ctx context.Context) error {
		db := s.wconn(ctx)
		err := db.Where(idemKeyCond+` AND (idempotency_keys.expires_at <= ? OR
			(idempotency_keys.response IS NULL AND idempotency_keys.created_at < ?))`,
			rec.Scope, rec.Key, rec.CreatedAt, dbTime(staleBefore)).Delete(&idempotencyRow{}).Error
		if err != nil {
			return translate(ctx, err, subj)
		}
		for range claimAttempts {
			res := s.wconn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return translate(ctx, res.Error, subj)
			}
			if res.RowsAffected == 1 {
				return nil // claimed
			}
			var cur idempotencyRow
			err := s.wconn(ctx).Where(idemKeyCond, rec.Scope, rec.Key).Take(&cur).Error
			if err == nil {
				held = cur.toService()
				return nil
			}
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return translate(ctx, err, subj)
			}
		}
		return &service.Error{Code: service.CodeConflict, Reason: "idempotency_key_in_flight",
			Message: "idempotency key " + strconv.Quote(rec.Key) + " is busy, try again"}
	})
	if err != nil {
		return nil, err
	}
	return held, nil
}

// CompleteIdempotencyKey stores the response of the key rec claimed, in the
// transaction of ctx (the one of the method's result). It refuses (conflict,
// rolling that transaction back) when the claim is no longer held: it went
// stale and another request took the key over, so only one of them may act.
// Errors: CodeConflict, CodeUnavailable, CodeInternal.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, rec *service.IdempotencyRecord) error {
	res := s.wconn(ctx).Model(&idempotencyRow{}).Where(idemClaimCond, rec.Scope, rec.Key, dbTime(rec.CreatedAt)).
		Update("response", string(rec.Response))
	if res.Error != nil {
		return translate(ctx, res.Error, about("idempotency key", strconv.Quote(rec.Key)))
	}
	if res.RowsAffected == 0 {
		return &service.Error{Code: service.CodeConflict, Reason: "idempotency_key_in_flight",
			Message: "idempotency key " + strconv.Quote(rec.Key) + " was taken over by another request while this one ran"}
	}
	return nil
}

// ReleaseIdempotencyKey forgets the key rec claimed, while it is still in
// flight and still this claim (same created_at): a completed key, or a later
// claim of the same key, is left alone. Errors: CodeUnavailable, CodeInternal.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, rec *service.IdempotencyRecord) error {
	err := s.wconn(ctx).Where(idemClaimCond, rec.Scope, rec.Key, dbTime(rec.CreatedAt)).Delete(&idempotencyRow{}).Error
	if err != nil {
		return translate(ctx, err, about("idempotency key", strconv.Quote(rec.Key)))
	}
	return nil
}

// PurgeIdempotencyKeys deletes the keys that expired before `before` and
// returns how many. Unscoped. Errors: CodeUnavailable, CodeInternal.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res := s.wconn(ctx).Where("idempotency_keys.expires_at < ?", dbTime(before)).Delete(&idempotencyRow{})
	if res.Error != nil {
		return 0, translate(ctx, res.Error, about("idempotency key", "expired"))
	}
	return res.RowsAffected, nil
}

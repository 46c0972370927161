package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// Idempotency windows.
const (
	// IdempotencyTTL is how long a key is remembered.
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyStale is when an in-flight key whose process died may be taken again.
	IdempotencyStale = 5 * time.Minute
)

// IdempotencyRecord is a remembered idempotency key: the method and params it
// was first used with and, once the call succeeded, its result.
type IdempotencyRecord struct {
	Scope      string // the key's owner: user and mode
	Key        string
	Method     string
	ParamsHash string
	// Response is the first result as JSON; nil while the first call is in flight.
	Response  json.RawMessage
	CreatedAt time.Time
	ExpiresAt time.Time
}

// IdempotencyStore keeps idempotency keys (unscoped: Scope is the owner).
type IdempotencyStore interface {
	// ClaimIdempotencyKey stores rec as in flight. If (Scope, Key) is already
	// held it returns the holder instead; an expired key, or an in-flight one
	// created before staleBefore, is replaced and claimed.
	ClaimIdempotencyKey(ctx context.Context, rec *IdempotencyRecord, staleBefore time.Time) (existing *IdempotencyRecord, err error)
	// CompleteIdempotencyKey stores the response of a claimed key.
	CompleteIdempotencyKey(ctx context.Context, rec *IdempotencyRecord) error
	// ReleaseIdempotencyKey forgets a claimed key whose call failed.
	ReleaseIdempotencyKey(ctx context.Context, rec *IdempotencyRecord) error
	// PurgeIdempotencyKeys deletes keys that expired before `before`.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
}

// PurgeExpiredIdempotencyKeys forgets keys past their 24 h; the server runs it
// periodically.
func (s *Service) PurgeExpiredIdempotencyKeys(ctx context.Context) (int64, error) {
	return s.store.PurgeIdempotencyKeys(ctx, s.clock.Now())
}

// idempotencyScope names the owner of a key: the user, the mode and the
// reseller scope of the call (X-Reseller narrowing included), so one key never
// replays a result across subtrees or modes.
func idempotencyScope(p *Principal) string {
	scope := "u" + strconv.FormatInt(p.UserID, 10) + ":" + modeOf(p)
	if p.ResellerID != nil {
		scope += ":r" + strconv.FormatInt(*p.ResellerID, 10)
	}
	return scope
}

// idempotency replays the first result of a repeated create or money movement.
// The key is the Idempotency-Key header (REST) or __idempotency_key (any
// protocol; in a JSON-RPC batch each element carries its own). The method runs
// in one transaction with the recording of its result, so an acknowledged
// result is always remembered.
func (s *Service) idempotency(next Handler) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		key := c.Meta.IdempotencyKey
		if key == "" && c.Session.Protocol == ProtoREST {
			key = c.Session.Creds.IdempotencyKey
		}
		if key == "" || !c.Method.Idempotent || c.Principal == nil {
			return next(ctx, c)
		}
		if len(key) > 255 {
			return nil, InvalidField("Idempotency-Key", "must be at most 255 characters")
		}
		canon, err := json.Marshal(c.Params)
		if err != nil {
			return nil, Internal(err)
		}
		sum := sha256.Sum256(append([]byte(c.Method.Name+"\x00"), canon...))
		now := s.clock.Now()
		rec := &IdempotencyRecord{
			Scope:      idempotencyScope(c.Principal),
			Key:        key,
			Method:     c.Method.Name,
			ParamsHash: hex.EncodeToString(sum[:]),
			CreatedAt:  now,
			ExpiresAt:  now.Add(IdempotencyTTL),
		}
		held, err := s.store.ClaimIdempotencyKey(ctx, rec, now.Add(-IdempotencyStale))
		if err != nil {
			return nil, err
		}
		if held != nil {
			switch {
			case held.Method != rec.Method || held.ParamsHash != rec.ParamsHash:
				return nil, &Error{Code: CodeConflict, Message: "idempotency key " + strconv.Quote(key) + " was already used with other params", Reason: "idempotency_key_reused"}
			case held.Response == nil:
				return nil, &Error{Code: CodeConflict, Message: "a request with idempotency key " + strconv.Quote(key) + " is still in flight", Reason: "idempotency_key_in_flight"}
			}
			return held.Response, nil
		}
		var res any
		err = s.store.InTx(ctx, func(ctx context.Context) error {
			var err error
			if res, err = next(ctx, c); err != nil {
				return err
			}
			Localize(res, c.Principal.Location)
			if rec.Response, err = json.Marshal(res); err != nil {
				return Internal(err)
			}
			return s.store.CompleteIdempotencyKey(ctx, rec)
		})
		if err != nil {
			if rerr := s.store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), rec); rerr != nil {
				s.log.WarnContext(ctx, "release idempotency key", "err", rerr)
			}
			return nil, err
		}
		return res, nil
	}
}

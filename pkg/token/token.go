// Package token signs and verifies the deprecated JWT session tokens (HS256).
package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are what a billgate token carries.
type Claims struct {
	UserID int64 `json:"uid"`
	jwt.RegisteredClaims
}

// ErrInvalid is returned for any token that must be refused: malformed, tampered,
// signed with another secret or algorithm (including "none"), or expired.
var ErrInvalid = errors.New("invalid or expired token")

// Sign returns an HS256 token for uid valid until exp.
func Sign(secret []byte, uid int64, now, exp time.Time) (string, error) {
	c := Claims{UserID: uid, RegisteredClaims: jwt.RegisteredClaims{
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
		Issuer:    "billgate",
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}

// Verify checks tok against secret at time now and returns its claims.
func Verify(secret []byte, tok string, now time.Time) (*Claims, error) {
	var c Claims
	t, err := jwt.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer("billgate"),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil || !t.Valid {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if c.UserID <= 0 {
		return nil, fmt.Errorf("%w: no uid", ErrInvalid)
	}
	return &c, nil
}

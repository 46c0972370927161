package token

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok, err := Sign(secret, 7, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Verify(secret, tok, now.Add(time.Minute))
	if err != nil || c.UserID != 7 {
		t.Fatalf("Verify = %v, %v", c, err)
	}
	parts := strings.Split(tok, ".")
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, Claims{UserID: 7, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "billgate", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}).SignedString(secret)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{UserID: 7, RegisteredClaims: jwt.RegisteredClaims{Issuer: "billgate"}}).SignedString(secret)
	otherSecret, _ := Sign([]byte("another-secret-another-secret-xx"), 7, now, now.Add(time.Hour))
	tamperedClaims := base64.RawURLEncoding.EncodeToString([]byte(`{"uid":1,"iss":"billgate","exp":4102444800}`))
	bad := map[string]string{
		"expired":      tok,
		"alg none":     noneHeader + "." + parts[1] + ".",
		"tampered":     parts[0] + "." + tamperedClaims + "." + parts[2],
		"wrong alg":    hs512,
		"wrong secret": otherSecret,
		"no exp":       noExp,
		"garbage":      "not.a.token",
		"empty":        "",
	}
	for name, b := range bad {
		at := now.Add(time.Minute)
		if name == "expired" {
			at = now.Add(2 * time.Hour)
		}
		if _, err := Verify(secret, b, at); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Verify accepted or wrong error: %v", name, err)
		}
	}
}

// Package password hashes and checks user passwords with bcrypt.
package password

import (
	"errors"

	"golang.org/x/crypto/bcrypt"
)

// Cost is the bcrypt cost; tests may lower it.
var Cost = bcrypt.DefaultCost

// Hash returns the bcrypt hash of pw.
func Hash(pw string) (string, error) {
	if len(pw) > 72 {
		return "", errors.New("password longer than 72 bytes")
	}
	b, err := bcrypt.GenerateFromPassword([]byte(pw), Cost)
	return string(b), err
}

// Check reports whether pw matches hash.
func Check(hash, pw string) bool {
	return hash != "" && bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

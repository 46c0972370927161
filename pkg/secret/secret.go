// Package secret makes random secrets and API keys and hashes keys for storage.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Random returns n random characters of [0-9A-Za-z].
func Random(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("secret: no randomness: " + err.Error())
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

// HashKey returns the hex SHA-256 of an API key. Keys carry 190 bits of
// randomness, so a fast hash is safe and lets the key be looked up by its hash.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

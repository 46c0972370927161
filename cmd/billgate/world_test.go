package main

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// world is the fixture most end-to-end tests share: two reseller subtrees
// (A with child A1, and B), a user limited to each, keys in both modes.
type world struct {
	s *server
	// resellers
	A, A1, B int64
	// users: uA and uA1 live in A's subtree, uB in B's, root has no reseller.
	uA, uA1, uB, root int64
	// keys
	admin, adminTest, keyA, keyATest, keyB string
	// logins
	loginA string
	// clients (with an account and a ledger entry each): cA and cB live in
	// A and B, cATest is A's test-mode client, cRoot has no reseller.
	cA, cB, cATest, cRoot int64
	accA, accB, accATest  int64
	txA, txB, txATest     int64
}

var seq atomic.Int64

// uniqCode returns a currency code unique within the test binary (Q + two letters).
func uniqCode() string {
	n := seq.Add(1)
	return fmt.Sprintf("Q%c%c", 'A'+byte(n/26%26), 'A'+byte(n%26))
}

// uniq returns a name unique within the test binary.
func uniq(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

type idOnly struct {
	ID int64 `json:"id"`
}

type keyReply struct {
	ID  int64  `json:"id"`
	Key string `json:"key"`
}

func newWorld(t *testing.T, s *server) *world {
	t.Helper()
	w := &world{s: s, admin: adminKey}
	ad := keyAuth(adminKey)
	mk := func(method string, params map[string]any) int64 {
		var r idOnly
		s.ok(t, ad, method, params, &r)
		return r.ID
	}
	w.A = mk("resellers.create", map[string]any{"name": uniq("A")})
	w.A1 = mk("resellers.create", map[string]any{"name": uniq("A1"), "parent_id": w.A})
	w.B = mk("resellers.create", map[string]any{"name": uniq("B")})
	w.loginA = uniq("usera")
	w.uA = mk("iam.users.create", map[string]any{"login": w.loginA, "password": "password-a", "resellers_id": w.A})
	w.uA1 = mk("iam.users.create", map[string]any{"login": uniq("usera1"), "password": "password-a1", "resellers_id": w.A1})
	w.uB = mk("iam.users.create", map[string]any{"login": uniq("userb"), "password": "password-b", "resellers_id": w.B})
	w.root = mk("iam.users.create", map[string]any{"login": uniq("root"), "password": "password-root"})
	key := func(user int64, mode string) string {
		var k keyReply
		s.ok(t, ad, "iam.api_keys.create", map[string]any{"users_id": user, "mode": mode}, &k)
		if k.Key == "" {
			t.Fatal("created key has no secret")
		}
		return k.Key
	}
	w.keyA = key(w.uA, "live")
	w.keyATest = key(w.uA, "test")
	w.keyB = key(w.uB, "live")
	var admins []idOnly
	s.ok(t, ad, "iam.users.search", map[string]any{"login": "admin"}, &admins)
	if len(admins) != 1 {
		t.Fatalf("admin user not found: %v", admins)
	}
	w.adminTest = key(admins[0].ID, "test")
	client := func(k string, name string) (int64, int64, int64) {
		var c, acc, tx idOnly
		s.ok(t, keyAuth(k), "clients.create", map[string]any{"name": name, "currency": "USD", "credit": 500}, &c)
		s.ok(t, keyAuth(k), "clients.accounts.create", map[string]any{"clients_id": c.ID, "name": name + " main"}, &acc)
		s.ok(t, keyAuth(k), "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": 1000, "type": "payment"}, &tx)
		return c.ID, acc.ID, tx.ID
	}
	w.cA, w.accA, w.txA = client(w.keyA, uniq("client A"))
	w.cB, w.accB, w.txB = client(w.keyB, uniq("client B"))
	w.cATest, w.accATest, w.txATest = client(w.keyATest, uniq("client A test"))
	w.cRoot, _, _ = client(w.admin, uniq("client root"))
	for _, r := range []map[string]any{
		{"from": "EUR", "to": "USD", "rate": "1.0842", "effective_from": "2025-01-01T00:00:00Z"},
		{"from": "EUR", "to": "USD", "rate": "1.1", "effective_from": "2025-07-01T00:00:00Z"},
		{"from": "GBP", "to": "USD", "rate": "1.25", "effective_from": "2025-01-01T00:00:00Z"},
	} {
		s.ok(t, ad, "accounting.currencies.rates.create", r, nil)
	}
	return w
}

// jwtFor logs in as login and returns the token.
func (w *world) jwtFor(t *testing.T, login, password string) string {
	t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	w.s.ok(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": login, "password": password}, &tok)
	return tok.Token
}

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
}

var seq atomic.Int64

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

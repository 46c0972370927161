package main

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/billgate/billgate/pkg/token"
)

// TestSeedExamples runs the examples of seed 003 (adapted to iam.users) as written.
func TestSeedExamples(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		status, _, body := s.raw(t, keyAuth(adminKey), "GET", "/iam/users/1", "", nil)
		if status != 200 || !strings.Contains(string(body), `"login":"admin"`) {
			t.Fatalf("GET /iam/users/1: %d %s", status, body)
		}
		// curl -d sends application/x-www-form-urlencoded: the body is JSON all the same.
		status, _, body = s.raw(t, keyAuth(adminKey), "POST", "/", "application/x-www-form-urlencoded",
			[]byte(`{"jsonrpc":"2.0","id":1,"method":"iam.users.get","params":{"id":1}}`))
		if status != 200 || !strings.Contains(string(body), `"login":"admin"`) || !strings.Contains(string(body), `"id":1}`) {
			t.Fatalf("JSON-RPC iam.users.get: %d %s", status, body)
		}
		status, _, body = s.raw(t, keyAuth(adminKey), "PATCH", "/iam/users/1", "application/x-www-form-urlencoded", []byte(`{"timezone": "Europe/Berlin"}`))
		if status != 200 || !strings.Contains(string(body), `"timezone":"Europe/Berlin"`) {
			t.Fatalf("PATCH with a JSON body sent as a form: %d %s", status, body)
		}
		status, _, body = s.raw(t, auth{}, "GET", "/", "", nil)
		if status != 200 || !strings.Contains(string(body), `"name":"billgate"`) || !strings.Contains(string(body), `"api_version"`) {
			t.Fatalf("GET /: %d %s", status, body)
		}
	})
}

func TestAPIKeyAuthentication(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		for _, bad := range []string{"bogus", "live_doesnotexist0000000000000000", "test_", strings.Repeat("x", 300)} {
			status, _, body := s.raw(t, keyAuth(bad), "POST", "/", "", []byte(`{"jsonrpc":"2.0","id":1,"method":"system.version"}`))
			if status != http.StatusUnauthorized || !strings.Contains(string(body), "-32005") {
				t.Errorf("JSON-RPC with key %.20q: %d %s", bad, status, body)
			}
			status, _, body = s.raw(t, keyAuth(bad), "GET", "/iam/users", "", nil)
			if status != http.StatusUnauthorized || !strings.Contains(string(body), "-32005") {
				t.Errorf("REST with key %.20q: %d %s", bad, status, body)
			}
		}
		// No credentials at all.
		r := s.rpc(t, auth{}, "iam.users.get", map[string]any{"id": 1})
		wantCode(t, r, "unauthenticated", "no credentials")
		// Basic auth with the key as user name works; a key in the URL does not.
		if status, _, _ := s.raw(t, auth{basic: w.keyA}, "GET", "/iam/users/"+itoa64(w.uA), "", nil); status != 200 {
			t.Errorf("Basic auth: %d", status)
		}
		if status, _, _ := s.raw(t, auth{}, "GET", "/iam/users/1?X-Api-Key="+adminKey, "", nil); status != 401 {
			t.Errorf("key in URL accepted: %d", status)
		}
		// A revoked key stops working at once.
		var k keyReply
		s.ok(t, keyAuth(adminKey), "iam.api_keys.create", map[string]any{"users_id": w.uA}, &k)
		s.ok(t, keyAuth(k.Key), "iam.users.get", map[string]any{"id": w.uA}, nil)
		s.ok(t, keyAuth(adminKey), "iam.api_keys.delete", map[string]any{"id": k.ID}, nil)
		if status, _, _ := s.raw(t, keyAuth(k.Key), "GET", "/iam/users/"+itoa64(w.uA), "", nil); status != 401 {
			t.Errorf("revoked key: %d", status)
		}
		// A disabled user cannot authenticate, by key or password.
		s.ok(t, keyAuth(adminKey), "iam.users.update", map[string]any{"id": w.uA, "status": "disabled"}, nil)
		if status, _, _ := s.raw(t, keyAuth(w.keyA), "GET", "/iam/users/"+itoa64(w.uA), "", nil); status != 401 {
			t.Errorf("disabled user's key: %d", status)
		}
		wantCode(t, s.rpc(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": w.loginA, "password": "password-a"}), "unauthenticated", "disabled login")
		s.ok(t, keyAuth(adminKey), "iam.users.update", map[string]any{"id": w.uA, "status": "active"}, nil)
		// allowed_ips: a request from elsewhere is forbidden.
		s.ok(t, keyAuth(adminKey), "iam.users.update", map[string]any{"id": w.uA, "allowed_ips": []string{"10.0.0.0/8"}}, nil)
		r = s.rpc(t, keyAuth(w.keyA), "iam.users.get", map[string]any{"id": w.uA})
		if r.Err == nil || r.Err.dataCode() != "forbidden" || !strings.Contains(r.Err.Message, "127.0.0.1") {
			t.Errorf("disallowed IP: %+v", r.Err)
		}
		s.ok(t, keyAuth(adminKey), "iam.users.update", map[string]any{"id": w.uA, "allowed_ips": []string{"127.0.0.0/8"}}, nil)
		s.ok(t, keyAuth(w.keyA), "iam.users.get", map[string]any{"id": w.uA}, nil)
	})
}

func TestJWT(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		tok := w.jwtFor(t, w.loginA, "password-a")
		// A JWT session works on both protocols and says it is deprecated.
		r := s.rpc(t, auth{bearer: tok}, "iam.users.get", map[string]any{"id": w.uA})
		if r.Err != nil || r.Header.Get("Deprecation") == "" {
			t.Fatalf("JWT call: %+v deprecation=%q", r.Err, r.Header.Get("Deprecation"))
		}
		status, h, _ := s.raw(t, auth{bearer: tok}, "GET", "/iam/users/"+itoa64(w.uA), "", nil)
		if status != 200 || h.Get("Deprecation") == "" {
			t.Errorf("REST JWT call: %d deprecation=%q", status, h.Get("Deprecation"))
		}
		// refresh needs a JWT, not an API key.
		var fresh struct {
			Token     string `json:"token"`
			ExpiresAt string `json:"expires_at"`
		}
		s.ok(t, auth{bearer: tok}, "iam.auth.jwt.refresh", map[string]any{}, &fresh)
		if fresh.Token == "" || fresh.ExpiresAt == "" {
			t.Errorf("refresh: %+v", fresh)
		}
		wantCode(t, s.rpc(t, keyAuth(w.keyA), "iam.auth.jwt.refresh", map[string]any{}), "unauthenticated", "refresh with a key")
		wantCode(t, s.rpc(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": w.loginA, "password": "wrong-password"}), "unauthenticated", "wrong password")
		wantCode(t, s.rpc(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": "nobody", "password": "wrong-password"}), "unauthenticated", "unknown login")

		now := time.Now()
		expired, _ := token.Sign([]byte(jwtSecret), w.uA, now.Add(-2*time.Hour), now.Add(-time.Hour))
		otherSecret, _ := token.Sign([]byte("not-the-server-secret-0000000000"), w.uA, now, now.Add(time.Hour))
		hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, token.Claims{UserID: w.uA, RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "billgate", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}).SignedString([]byte(jwtSecret))
		parts := strings.Split(tok, ".")
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
		// Claims for another user, keeping A's signature.
		forged, _ := token.Sign([]byte("x"), w.uB, now, now.Add(time.Hour))
		tampered := parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
		for name, bad := range map[string]string{"expired": expired, "wrong secret": otherSecret, "HS512": hs512,
			"alg none": none, "tampered": tampered, "garbage": "abc.def.ghi"} {
			r := s.rpc(t, auth{bearer: bad}, "iam.users.get", map[string]any{"id": w.uA})
			if r.Status != 200 || r.Err == nil || r.Err.Code != -32005 {
				t.Errorf("%s token over JSON-RPC: HTTP %d %+v", name, r.Status, r.Err)
			}
			status, _, body := s.raw(t, auth{bearer: bad}, "GET", "/iam/users/"+itoa64(w.uA), "", nil)
			if status != 401 || !strings.Contains(string(body), "-32005") {
				t.Errorf("%s token over REST: %d %s", name, status, body)
			}
		}
	})
}

// TestModeIsolationForKeys: a test key sees only test keys and cannot mint live ones.
func TestModeIsolationForKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		var keys []struct {
			Mode string `json:"mode"`
		}
		s.ok(t, keyAuth(w.keyATest), "iam.api_keys.search", map[string]any{}, &keys)
		if len(keys) == 0 {
			t.Fatal("test key sees no keys")
		}
		for _, k := range keys {
			if k.Mode != "test" {
				t.Errorf("test key sees a %s key", k.Mode)
			}
		}
		wantCode(t, s.rpc(t, keyAuth(w.keyATest), "iam.api_keys.create", map[string]any{"users_id": w.uA, "mode": "live"}), "forbidden", "test key minting a live key")
		var k struct {
			Mode string `json:"mode"`
			Key  string `json:"key"`
		}
		s.ok(t, keyAuth(w.keyATest), "iam.api_keys.create", map[string]any{"users_id": w.uA}, &k)
		if k.Mode != "test" || !strings.HasPrefix(k.Key, "test_") {
			t.Errorf("key made by a test key: %+v", k)
		}
	})
}

package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/billgate/billgate/service"
)

// parityCase builds the params of one call of a method; it is called once per
// protocol, so a case may create what it needs (a user to delete…) each time.
// ignore names result fields that legitimately differ between the two calls.
type parityCase func(t *testing.T, w *world) (a auth, params map[string]any, ignore []string)

var stamps = []string{"created_at", "updated_at"}

func ignoring(fields ...string) []string { return append(fields, stamps...) }

// parityCases has one entry per registered method: TestParity fails for a
// method without one, so no method can skip it.
var parityCases = map[string]parityCase{
	"system.version": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return auth{}, map[string]any{}, nil
	},
	"iam.auth.jwt.authenticate": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return auth{}, map[string]any{"login": w.loginA, "password": "password-a"}, []string{"token", "expires_at"}
	},
	"iam.auth.jwt.refresh": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return auth{bearer: w.jwtFor(t, w.loginA, "password-a")}, map[string]any{}, []string{"token", "expires_at"}
	},
	"iam.users.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.admin), map[string]any{"order": "-login", "limit": 3, "resellers_id": []int64{w.A, w.A1}}, nil
	},
	"iam.users.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.admin), map[string]any{"resellers_id": w.A}, nil
	},
	"iam.users.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"id": w.uA1}, nil
	},
	"iam.users.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"login": uniq("parity"), "password": "parity-pass", "timezone": "Asia/Tokyo",
			"allowed_ips": []string{"10.1.2.3", "192.168.0.0/16"}}, ignoring("id", "login")
	},
	"iam.users.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"id": w.uA1, "timezone": "Europe/Paris", "role": "admin"}, ignoring()
	},
	"iam.users.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		var u idOnly
		w.s.ok(t, keyAuth(w.keyA), "iam.users.create", map[string]any{"login": uniq("del"), "password": "delete-me"}, &u)
		return keyAuth(w.keyA), map[string]any{"id": u.ID}, []string{"id"}
	},
	"iam.api_keys.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.admin), map[string]any{"users_id": w.uB}, []string{"last_used_at"}
	},
	"iam.api_keys.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"users_id": w.uA1, "mode": "test"}, ignoring("id", "key", "prefix")
	},
	"iam.api_keys.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		var k keyReply
		w.s.ok(t, keyAuth(w.keyA), "iam.api_keys.create", map[string]any{"users_id": w.uA1}, &k)
		return keyAuth(w.keyA), map[string]any{"id": k.ID}, []string{"id"}
	},
	"resellers.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"o": "-id"}, nil
	},
	"resellers.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"q": "A*"}, nil
	},
	"resellers.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"id": w.A1}, nil
	},
	"resellers.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"name": "child of A1", "parent_id": w.A1}, ignoring("id")
	},
	"resellers.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"id": w.A1, "name": "A1 renamed"}, ignoring()
	},
	"resellers.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		var r idOnly
		w.s.ok(t, keyAuth(w.keyA), "resellers.create", map[string]any{"name": uniq("gone")}, &r)
		return keyAuth(w.keyA), map[string]any{"id": r.ID}, []string{"id"}
	},
}

// TestParity: every registered method answers the same over REST, JSON-RPC
// and JSON-RPC over WebSocket, for a good call and for a bad one.
func TestParity(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		reg := registry(t)
		for _, m := range reg.Methods() {
			c, ok := parityCases[m.Name]
			if !ok {
				t.Errorf("method %s has no parity case: add one to parityCases", m.Name)
				continue
			}
			t.Run(m.Name, func(t *testing.T) {
				a, params, ignore := c(t, w)
				viaRPC := s.rpc(t, a, m.Name, params)
				a, params, _ = c(t, w)
				viaREST := s.rest(t, a, m, params)
				a, params, _ = c(t, w)
				viaWS := s.ws(t, a, m.Name, params)
				if viaRPC.Err != nil || viaREST.Err != nil || viaWS.Err != nil {
					t.Fatalf("errors: rpc %+v rest %+v ws %+v", viaRPC.Err, viaREST.Err, viaWS.Err)
				}
				want := http.StatusOK
				if m.HTTP.Created {
					want = http.StatusCreated
				}
				if viaREST.Status != want {
					t.Errorf("REST status %d, want %d", viaREST.Status, want)
				}
				if got, exp := canonical(t, viaREST.Result, ignore), canonical(t, viaRPC.Result, ignore); got != exp {
					t.Errorf("results differ:\nREST %s\nRPC  %s", got, exp)
				}
				if got, exp := canonical(t, viaWS.Result, ignore), canonical(t, viaRPC.Result, ignore); got != exp {
					t.Errorf("results differ:\nWS   %s\nRPC  %s", got, exp)
				}
			})
			t.Run(m.Name+"/error", func(t *testing.T) {
				a, _, _ := c(t, w)
				bad := map[string]any{"zzz_unknown": 1}
				for _, seg := range strings.Split(m.HTTP.Path, "/") {
					if strings.HasPrefix(seg, ":") {
						bad[seg[1:]] = "999999"
					}
				}
				viaRPC, viaREST, viaWS := s.rpc(t, a, m.Name, bad), s.rest(t, a, m, bad), s.ws(t, a, m.Name, bad)
				if viaRPC.Err == nil || viaREST.Err == nil || viaWS.Err == nil {
					t.Fatalf("bad params accepted: rpc %s rest %s ws %s", viaRPC.Result, viaREST.Result, viaWS.Result)
				}
				if viaRPC.Err.Code != viaREST.Err.Code || viaRPC.Err.dataCode() != viaREST.Err.dataCode() {
					t.Errorf("codes differ: rpc %d/%s rest %d/%s", viaRPC.Err.Code, viaRPC.Err.dataCode(), viaREST.Err.Code, viaREST.Err.dataCode())
				}
				if viaRPC.Err.Code != viaWS.Err.Code || viaRPC.Err.dataCode() != viaWS.Err.dataCode() {
					t.Errorf("codes differ: rpc %d/%s ws %d/%s", viaRPC.Err.Code, viaRPC.Err.dataCode(), viaWS.Err.Code, viaWS.Err.dataCode())
				}
				if viaRPC.Status != http.StatusOK {
					t.Errorf("JSON-RPC error sent with HTTP %d", viaRPC.Status)
				}
				if viaREST.Status != restStatus[viaREST.Err.dataCode()] {
					t.Errorf("REST status %d for %s", viaREST.Status, viaREST.Err.dataCode())
				}
			})
		}
	})
}

// restStatus is API.md §4's table, restated here so a change to rest/'s table is caught.
var restStatus = map[string]int{
	"parse_error": 400, "invalid_request": 400, "method_not_found": 404, "invalid_params": 400,
	"internal": 500, "not_found": 404, "conflict": 409, "unprocessable": 422, "forbidden": 403,
	"unauthenticated": 401, "unavailable": 503, "too_large": 413, "timeout": 504,
}

// registry returns the method registry of a service built like the server's.
func registry(t *testing.T) *service.Registry {
	t.Helper()
	return service.New(service.Config{}, nil, nil, nil).Registry()
}

package main

import (
	"encoding/json"
	"testing"
)

// caller makes one call as the reseller-A principal over one protocol.
type caller func(method string, params map[string]any) reply

// isoCase checks that a method run by a principal limited to reseller A never
// reaches reseller B's objects (nor root ones). nil marks a method that touches
// no scoped object.
type isoCase func(t *testing.T, w *world, call caller)

func wantNotFound(t *testing.T, r reply, what string) {
	t.Helper()
	if r.Err == nil || r.Err.dataCode() != "not_found" {
		t.Errorf("%s: want not_found, got %+v %s", what, r.Err, r.Result)
	}
}

func wantCode(t *testing.T, r reply, code, what string) {
	t.Helper()
	if r.Err == nil || r.Err.dataCode() != code {
		t.Errorf("%s: want %s, got %+v %s", what, code, r.Err, r.Result)
	}
}

// idsOf decodes a list result into its ids (and fails on an error).
func idsOf(t *testing.T, r reply) map[int64]bool {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("list failed: %+v", r.Err)
	}
	var rows []idOnly
	if err := json.Unmarshal(r.Result, &rows); err != nil {
		t.Fatalf("list result %s: %v", r.Result, err)
	}
	out := map[int64]bool{}
	for _, row := range rows {
		out[row.ID] = true
	}
	return out
}

func countOf(t *testing.T, r reply) int64 {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("count failed: %+v", r.Err)
	}
	var c struct {
		Count int64 `json:"count"`
	}
	if err := json.Unmarshal(r.Result, &c); err != nil {
		t.Fatal(err)
	}
	return c.Count
}

var isolationCases = map[string]isoCase{
	"system.version":            nil,
	"iam.auth.jwt.authenticate": nil,
	"iam.auth.jwt.refresh":      nil,
	"iam.users.search": func(t *testing.T, w *world, call caller) {
		ids := idsOf(t, call("iam.users.search", map[string]any{"limit": 1000}))
		if ids[w.uB] || ids[w.root] || !ids[w.uA1] || !ids[w.uA] {
			t.Errorf("users seen by A: %v (uB=%d root=%d uA1=%d)", ids, w.uB, w.root, w.uA1)
		}
		if len(idsOf(t, call("iam.users.search", map[string]any{"resellers_id": w.B}))) != 0 {
			t.Error("filtering on B's reseller found users")
		}
	},
	"iam.users.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("iam.users.count", map[string]any{"resellers_id": []int64{w.B}})); n != 0 {
			t.Errorf("A counts %d users of B", n)
		}
		if n := countOf(t, call("iam.users.count", map[string]any{"id": []int64{w.uB, w.root}})); n != 0 {
			t.Errorf("A counts %d of B's and root users", n)
		}
	},
	"iam.users.get": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("iam.users.get", map[string]any{"id": w.uB}), "get B's user")
		wantNotFound(t, call("iam.users.get", map[string]any{"id": w.root}), "get a root user")
	},
	"iam.users.create": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("iam.users.create", map[string]any{"login": uniq("x"), "password": "password-x", "resellers_id": w.B}), "create under B")
	},
	"iam.users.update": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("iam.users.update", map[string]any{"id": w.uB, "status": "disabled"}), "update B's user")
		wantNotFound(t, call("iam.users.update", map[string]any{"id": w.uA1, "resellers_id": w.B}), "move a user to B")
	},
	"iam.users.delete": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("iam.users.delete", map[string]any{"id": w.uB}), "delete B's user")
	},
	"iam.api_keys.search": func(t *testing.T, w *world, call caller) {
		if ids := idsOf(t, call("iam.api_keys.search", map[string]any{"users_id": w.uB})); len(ids) != 0 {
			t.Errorf("A sees B's keys %v", ids)
		}
	},
	"iam.api_keys.create": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("iam.api_keys.create", map[string]any{"users_id": w.uB}), "key for B's user")
	},
	"iam.api_keys.delete": func(t *testing.T, w *world, call caller) {
		var keys []idOnly
		w.s.ok(t, keyAuth(w.admin), "iam.api_keys.search", map[string]any{"users_id": w.uB}, &keys)
		if len(keys) == 0 {
			t.Fatal("B has no keys")
		}
		wantNotFound(t, call("iam.api_keys.delete", map[string]any{"id": keys[0].ID}), "delete B's key")
	},
	"resellers.search": func(t *testing.T, w *world, call caller) {
		ids := idsOf(t, call("resellers.search", map[string]any{"limit": 1000}))
		if ids[w.B] || !ids[w.A] || !ids[w.A1] {
			t.Errorf("resellers seen by A: %v", ids)
		}
	},
	"resellers.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("resellers.count", map[string]any{"id": w.B})); n != 0 {
			t.Errorf("A counts B: %d", n)
		}
	},
	"resellers.get": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("resellers.get", map[string]any{"id": w.B}), "get B")
	},
	"resellers.create": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("resellers.create", map[string]any{"name": "under B", "parent_id": w.B}), "create under B")
	},
	"resellers.update": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("resellers.update", map[string]any{"id": w.B, "name": "mine"}), "rename B")
		wantNotFound(t, call("resellers.update", map[string]any{"id": w.A1, "parent_id": w.B}), "move A1 under B")
	},
	"resellers.delete": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("resellers.delete", map[string]any{"id": w.B}), "delete B")
	},
}

// TestResellerIsolation: a principal limited to reseller A sees exactly its
// subtree through every method, over REST, JSON-RPC and WebSocket, with an
// API key and with a JWT. The case table must cover the whole registry.
func TestResellerIsolation(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		reg := registry(t)
		token := w.jwtFor(t, w.loginA, "password-a")
		callers := map[string]caller{
			"jsonrpc+key": func(m string, p map[string]any) reply { return s.rpc(t, keyAuth(w.keyA), m, p) },
			"rest+key": func(m string, p map[string]any) reply {
				meth, _ := reg.Lookup(m)
				return s.rest(t, keyAuth(w.keyA), meth, p)
			},
			"jsonrpc+jwt": func(m string, p map[string]any) reply { return s.rpc(t, auth{bearer: token}, m, p) },
			"ws+key":      func(m string, p map[string]any) reply { return s.ws(t, keyAuth(w.keyA), m, p) },
			"ws+jwt":      func(m string, p map[string]any) reply { return s.ws(t, auth{bearer: token}, m, p) },
			"rest+basic": func(m string, p map[string]any) reply {
				meth, _ := reg.Lookup(m)
				return s.rest(t, auth{basic: w.keyA}, meth, p)
			},
		}
		for _, m := range reg.Methods() {
			c, ok := isolationCases[m.Name]
			if !ok {
				t.Errorf("method %s has no isolation case: add one to isolationCases", m.Name)
				continue
			}
			if c == nil {
				continue
			}
			for _, name := range sortedKeys(callers) {
				t.Run(m.Name+"/"+name, func(t *testing.T) { c(t, w, callers[name]) })
			}
		}
	})
}

// TestXResellerNarrows: X-Reseller narrows an unrestricted key to a subtree, and
// cannot widen a limited one.
func TestXResellerNarrows(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		narrowed := auth{key: w.admin, header: map[string]string{"X-Reseller": itoa64(w.A1)}}
		ids := idsOf(t, s.rpc(t, narrowed, "iam.users.search", map[string]any{}))
		if !ids[w.uA1] || ids[w.uA] || ids[w.uB] {
			t.Errorf("admin narrowed to A1 sees %v", ids)
		}
		wantNotFound(t, s.rpc(t, auth{key: w.keyA, header: map[string]string{"X-Reseller": itoa64(w.B)}}, "iam.users.get", map[string]any{"id": w.uA}), "A widening to B")
		// A client created by the narrowed admin without resellers_id lands in A1.
		var u struct {
			ResellersID *int64 `json:"resellers_id"`
		}
		s.ok(t, narrowed, "iam.users.create", map[string]any{"login": uniq("n"), "password": "narrowed-1"}, &u)
		if u.ResellersID == nil || *u.ResellersID != w.A1 {
			t.Errorf("narrowed create landed in %v, want %d", u.ResellersID, w.A1)
		}
		var root struct {
			ResellersID *int64 `json:"resellers_id"`
		}
		s.ok(t, keyAuth(w.admin), "iam.users.create", map[string]any{"login": uniq("r"), "password": "root-user-1"}, &root)
		if root.ResellersID != nil {
			t.Errorf("admin create without reseller landed in %d, want root", *root.ResellersID)
		}
	})
}

func itoa64(i int64) string {
	b, _ := json.Marshal(i)
	return string(b)
}

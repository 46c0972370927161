package main

import (
	"fmt"
	"testing"
)

// modeCases check, for each method over mode-scoped objects, that reseller A's
// TEST key never reaches A's LIVE client, account or transaction. Methods over
// objects without a mode are listed as nil; TestModeIsolation fails for a
// method in neither form.
var modeCases = map[string]isoCase{
	"clients.search": func(t *testing.T, w *world, call caller) {
		ids := idsOf(t, call("clients.search", map[string]any{"limit": 1000}))
		if ids[w.cA] || !ids[w.cATest] {
			t.Errorf("test key sees clients %v (live %d, test %d)", ids, w.cA, w.cATest)
		}
	},
	"clients.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("clients.count", map[string]any{"id": w.cA})); n != 0 {
			t.Errorf("test key counts the live client")
		}
	},
	"clients.get": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.get", map[string]any{"id": w.cA}), "get a live client")
	},
	"clients.create": func(t *testing.T, w *world, call caller) {
		var c struct {
			LiveMode bool `json:"live_mode"`
		}
		r := call("clients.create", map[string]any{"name": uniq("made in test")})
		if r.Err != nil || decode(t, r, &c) != nil || c.LiveMode {
			t.Errorf("client made with a test key: %+v %s", r.Err, r.Result)
		}
	},
	"clients.update": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.update", map[string]any{"id": w.cA, "credit": 1}), "update a live client")
	},
	"clients.delete": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.delete", map[string]any{"id": w.cA}), "delete a live client")
	},
	"clients.accounts.search": func(t *testing.T, w *world, call caller) {
		if ids := idsOf(t, call("clients.accounts.search", map[string]any{"clients_id": w.cA})); len(ids) != 0 {
			t.Errorf("test key sees live accounts %v", ids)
		}
	},
	"clients.accounts.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("clients.accounts.count", map[string]any{"id": w.accA})); n != 0 {
			t.Error("test key counts a live account")
		}
	},
	"clients.accounts.get": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.accounts.get", map[string]any{"id": w.accA}), "get a live account")
	},
	"clients.accounts.create": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.accounts.create", map[string]any{"clients_id": w.cA, "name": "x"}), "account on a live client")
	},
	"clients.accounts.update": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.accounts.update", map[string]any{"id": w.accA, "name": "x"}), "update a live account")
	},
	"clients.accounts.delete": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.accounts.delete", map[string]any{"id": w.accA}), "delete a live account")
	},
	"accounting.transactions.search": func(t *testing.T, w *world, call caller) {
		ids := idsOf(t, call("accounting.transactions.search", map[string]any{"limit": 1000}))
		if ids[w.txA] || !ids[w.txATest] {
			t.Errorf("test key sees transactions %v", ids)
		}
	},
	"accounting.transactions.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("accounting.transactions.count", map[string]any{"clients_id": w.cA})); n != 0 {
			t.Error("test key counts live transactions")
		}
	},
	"accounting.transactions.get": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("accounting.transactions.get", map[string]any{"id": w.txA}), "get a live transaction")
	},
	"accounting.transactions.create": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("accounting.transactions.create", map[string]any{"clients_id": w.cA, "amount": 1, "type": "payment"}), "credit a live client")
	},
	"accounting.transactions.create_no_negative": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("accounting.transactions.create_no_negative", map[string]any{"clients_id": w.cA, "amount": -1, "type": "charge"}), "debit a live client")
	},
	"audit.search": func(t *testing.T, w *world, call caller) {
		if ids := idsOf(t, call("audit.search", map[string]any{"entity": "client", "entity_id": fmt.Sprint(w.cA)})); len(ids) != 0 {
			t.Errorf("test key sees the live client's audit trail")
		}
	},
	// IAM, resellers, currencies and rates have no mode.
	"system.version": nil, "iam.auth.jwt.authenticate": nil, "iam.auth.jwt.refresh": nil,
	"iam.users.search": nil, "iam.users.count": nil, "iam.users.get": nil, "iam.users.create": nil,
	"iam.users.update": nil, "iam.users.delete": nil, "iam.api_keys.search": nil, "iam.api_keys.create": nil,
	"iam.api_keys.delete": nil, "resellers.search": nil, "resellers.count": nil, "resellers.get": nil,
	"resellers.create": nil, "resellers.update": nil, "resellers.delete": nil,
	"accounting.currencies.search": nil, "accounting.currencies.get": nil, "accounting.currencies.get_rate": nil,
	"accounting.currencies.rates.search": nil,
	// Writes to shared data are refused to test keys (they would change live data).
	"accounting.currencies.create": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("accounting.currencies.create", map[string]any{"code": uniqCode(), "name": "x", "exponent": 2}), "forbidden", "test key adds a currency")
	},
	"accounting.currencies.update": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("accounting.currencies.update", map[string]any{"code": "EUR", "name": "x"}), "forbidden", "test key renames a currency")
	},
	"accounting.currencies.delete": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("accounting.currencies.delete", map[string]any{"code": "ISK"}), "forbidden", "test key deletes a currency")
	},
	"accounting.currencies.rates.create": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("accounting.currencies.rates.create", map[string]any{"from": "USD", "to": "JPY", "rate": "1"}), "forbidden", "test key sets a live rate")
	},
}

// TestModeIsolation: a test key never sees live data, over every method and
// three transports (unrestricted test key and A's test key alike).
func TestModeIsolation(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		reg := registry(t)
		for _, m := range reg.Methods() {
			c, ok := modeCases[m.Name]
			if !ok {
				t.Errorf("method %s has no mode case: add one to modeCases", m.Name)
				continue
			}
			if c == nil {
				continue
			}
			for _, k := range []struct{ name, key string }{{"a-test", w.keyATest}, {"admin-test", w.adminTest}} {
				t.Run(m.Name+"/rpc/"+k.name, func(t *testing.T) {
					c(t, w, func(m string, p map[string]any) reply { return s.rpc(t, keyAuth(k.key), m, p) })
				})
				t.Run(m.Name+"/rest/"+k.name, func(t *testing.T) {
					c(t, w, func(name string, p map[string]any) reply {
						meth, _ := reg.Lookup(name)
						return s.rest(t, keyAuth(k.key), meth, p)
					})
				})
				t.Run(m.Name+"/ws/"+k.name, func(t *testing.T) {
					c(t, w, func(m string, p map[string]any) reply { return s.ws(t, keyAuth(k.key), m, p) })
				})
			}
		}
	})
}

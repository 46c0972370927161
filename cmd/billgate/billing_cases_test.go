package main

import (
	"fmt"
	"testing"
)

// The parity and isolation rows of the billing core (clients, accounts,
// currencies, rates, ledger, audit), merged into the registry-wide tables.
func init() {
	for k, v := range billingParity {
		parityCases[k] = v
	}
	for k, v := range billingIsolation {
		isolationCases[k] = v
	}
}

var effective = 0

var billingParity = map[string]parityCase{
	"clients.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.admin), map[string]any{"status": "active", "order": "-id", "limit": 5, "q": "client*"}, nil
	},
	"clients.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.admin), map[string]any{"resellers_id": w.A}, nil
	},
	"clients.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"id": w.cA}, nil
	},
	"clients.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"name": "Parity Co", "currency": "EUR", "credit": 100, "email": "p@example.com",
			"phone": "+14155550123", "metadata": map[string]any{"k": "v"}}, ignoring("id")
	},
	"clients.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"id": w.cA, "credit": 1000, "company": "Acme"}, ignoring()
	},
	"clients.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		var c idOnly
		w.s.ok(t, keyAuth(w.keyA), "clients.create", map[string]any{"name": "doomed"}, &c)
		return keyAuth(w.keyA), map[string]any{"id": c.ID}, []string{"id"}
	},
	"clients.accounts.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"clients_id": w.cA}, nil
	},
	"clients.accounts.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"status": "active"}, nil
	},
	"clients.accounts.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"id": w.accA}, nil
	},
	"clients.accounts.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"clients_id": w.cA, "name": "sip", "ips": []string{"10.0.0.1", "10.1.0.0/16"}}, ignoring("id")
	},
	"clients.accounts.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"id": w.accA, "status": "suspended"}, ignoring()
	},
	"clients.accounts.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		var a idOnly
		w.s.ok(t, keyAuth(w.keyA), "clients.accounts.create", map[string]any{"clients_id": w.cA, "name": "doomed"}, &a)
		return keyAuth(w.keyA), map[string]any{"id": a.ID}, []string{"id"}
	},
	"accounting.currencies.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"limit": 100, "order": "code"}, nil
	},
	"accounting.currencies.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"code": "JPY"}, nil
	},
	"accounting.currencies.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.admin), map[string]any{"code": uniqCode(), "name": "Test money", "exponent": 3}, ignoring("code")
	},
	"accounting.currencies.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.admin), map[string]any{"code": "EUR", "name": "Euro (EU)"}, ignoring()
	},
	"accounting.currencies.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		code := uniqCode()
		w.s.ok(t, keyAuth(w.admin), "accounting.currencies.create", map[string]any{"code": code, "name": "doomed", "exponent": 2}, nil)
		return keyAuth(w.admin), map[string]any{"code": code}, []string{"id"}
	},
	"accounting.currencies.rates.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"from": "EUR", "order": "-effective_from"}, nil
	},
	"accounting.currencies.rates.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		effective++
		at := fmt.Sprintf("2024-01-%02dT00:00:00Z", effective%28+1)
		return keyAuth(w.admin), map[string]any{"from": "CHF", "to": "USD", "rate": "1.1", "effective_from": at}, ignoring("id", "effective_from")
	},
	"accounting.currencies.get_rate": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"from": "EUR", "to": "GBP", "at": "2025-06-01"}, nil
	},
	"accounting.transactions.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"clients_id": w.cA, "order": "-id"}, nil
	},
	"accounting.transactions.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"type": "payment"}, nil
	},
	"accounting.transactions.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"id": w.txA}, nil
	},
	"accounting.transactions.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"clients_id": w.cA, "amount": 250, "type": "payment", "notes": "parity"}, ignoring("id", "balance_after")
	},
	"accounting.transactions.create_no_negative": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.keyA), map[string]any{"clients_id": w.cA, "amount": -100, "type": "charge"}, ignoring("id", "balance_after")
	},
	"audit.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyAuth(w.admin), map[string]any{"entity": "client", "entity_id": fmt.Sprint(w.cB)}, nil
	},
}

// billingIsolation: B's and root objects are invisible to A.
var billingIsolation = map[string]isoCase{
	"clients.search": func(t *testing.T, w *world, call caller) {
		ids := idsOf(t, call("clients.search", map[string]any{"limit": 1000}))
		if ids[w.cB] || ids[w.cRoot] || !ids[w.cA] {
			t.Errorf("clients seen by A: %v", ids)
		}
		if len(idsOf(t, call("clients.search", map[string]any{"resellers_id": w.B}))) != 0 {
			t.Error("A finds clients of B by filter")
		}
	},
	"clients.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("clients.count", map[string]any{"id": []int64{w.cB, w.cRoot}})); n != 0 {
			t.Errorf("A counts %d foreign clients", n)
		}
	},
	"clients.get": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.get", map[string]any{"id": w.cB}), "get B's client")
		wantNotFound(t, call("clients.get", map[string]any{"id": w.cRoot}), "get a root client")
	},
	"clients.create": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.create", map[string]any{"name": "x", "resellers_id": w.B}), "create under B")
	},
	"clients.update": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.update", map[string]any{"id": w.cB, "credit": 999999}), "update B's client")
		wantNotFound(t, call("clients.update", map[string]any{"id": w.cA, "resellers_id": w.B}), "move a client to B")
	},
	"clients.delete": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.delete", map[string]any{"id": w.cB}), "delete B's client")
	},
	"clients.accounts.search": func(t *testing.T, w *world, call caller) {
		ids := idsOf(t, call("clients.accounts.search", map[string]any{"limit": 1000}))
		if ids[w.accB] || !ids[w.accA] {
			t.Errorf("accounts seen by A: %v", ids)
		}
	},
	"clients.accounts.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("clients.accounts.count", map[string]any{"clients_id": w.cB})); n != 0 {
			t.Errorf("A counts %d of B's accounts", n)
		}
	},
	"clients.accounts.get": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.accounts.get", map[string]any{"id": w.accB}), "get B's account")
	},
	"clients.accounts.create": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.accounts.create", map[string]any{"clients_id": w.cB, "name": "x"}), "account for B's client")
	},
	"clients.accounts.update": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.accounts.update", map[string]any{"id": w.accB, "name": "x"}), "update B's account")
	},
	"clients.accounts.delete": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("clients.accounts.delete", map[string]any{"id": w.accB}), "delete B's account")
	},
	// Currencies and rates belong to no reseller: everyone reads them, and a
	// limited key may not change them.
	"accounting.currencies.search": nil,
	"accounting.currencies.get":    nil,
	"accounting.currencies.create": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("accounting.currencies.create", map[string]any{"code": uniqCode(), "name": "x", "exponent": 2}), "forbidden", "limited key adds a currency")
	},
	"accounting.currencies.update": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("accounting.currencies.update", map[string]any{"code": "EUR", "is_base": true}), "forbidden", "limited key moves the base")
	},
	"accounting.currencies.delete": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("accounting.currencies.delete", map[string]any{"code": "ISK"}), "forbidden", "limited key deletes a currency")
	},
	"accounting.currencies.rates.search": nil,
	"accounting.currencies.rates.create": func(t *testing.T, w *world, call caller) {
		wantCode(t, call("accounting.currencies.rates.create", map[string]any{"from": "USD", "to": "JPY", "rate": "1"}), "forbidden", "limited key sets a rate")
	},
	"accounting.currencies.get_rate": nil,
	"accounting.transactions.search": func(t *testing.T, w *world, call caller) {
		ids := idsOf(t, call("accounting.transactions.search", map[string]any{"limit": 1000}))
		if ids[w.txB] || !ids[w.txA] {
			t.Errorf("transactions seen by A: %v", ids)
		}
	},
	"accounting.transactions.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("accounting.transactions.count", map[string]any{"clients_id": w.cB})); n != 0 {
			t.Errorf("A counts %d of B's transactions", n)
		}
	},
	"accounting.transactions.get": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("accounting.transactions.get", map[string]any{"id": w.txB}), "get B's transaction")
	},
	"accounting.transactions.create": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("accounting.transactions.create", map[string]any{"clients_id": w.cB, "amount": 1, "type": "payment"}), "credit B's client")
	},
	"accounting.transactions.create_no_negative": func(t *testing.T, w *world, call caller) {
		wantNotFound(t, call("accounting.transactions.create_no_negative", map[string]any{"clients_id": w.cB, "amount": -1, "type": "charge"}), "debit B's client")
	},
	"audit.search": func(t *testing.T, w *world, call caller) {
		rows := idsOf(t, call("audit.search", map[string]any{"entity": "client", "entity_id": fmt.Sprint(w.cB)}))
		if len(rows) != 0 {
			t.Errorf("A sees %d audit entries of B's client", len(rows))
		}
	},
}

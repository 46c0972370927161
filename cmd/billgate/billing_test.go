package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type clientView struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Credit   int64  `json:"credit"`
	Balance  int64  `json:"balance"`
	Currency string `json:"currency"`
	Status   string `json:"status"`
}

// TestSeedClientExample runs seed 003's client #42 example as written.
func TestSeedClientExample(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		var c clientView
		for c.ID < 42 {
			s.ok(t, a, "clients.create", map[string]any{"name": uniq("client")}, &c)
		}
		// curl -X PATCH http://billing-host:3080/clients/42 -H "X-Api-Key: …" -d '{"credit": 1000}'
		status, _, body := s.raw(t, a, "PATCH", "/clients/42", "application/x-www-form-urlencoded", []byte(`{"credit": 1000}`))
		if status != 200 || !strings.Contains(string(body), `"credit":1000`) {
			t.Fatalf("PATCH /clients/42: %d %s", status, body)
		}
		status, _, body = s.raw(t, a, "GET", "/clients/42", "", nil)
		if status != 200 || !strings.Contains(string(body), `"credit":1000`) {
			t.Fatalf("GET /clients/42: %d %s", status, body)
		}
		// The same over JSON-RPC.
		status, _, body = s.raw(t, a, "POST", "/", "application/x-www-form-urlencoded",
			[]byte(`{"jsonrpc": "2.0", "id": 1, "method": "clients.update", "params": {"id": 42, "credit": 2000}}`))
		if status != 200 || !strings.Contains(string(body), `"credit":2000`) {
			t.Fatalf("clients.update: %d %s", status, body)
		}
		s.ok(t, a, "clients.get", map[string]any{"id": 42}, &c)
		if c.Credit != 2000 {
			t.Errorf("credit after JSON-RPC update: %d", c.Credit)
		}
		// A form-encoded body works too, and the path id wins over a body id.
		status, _, body = s.raw(t, a, "PATCH", "/clients/42", "application/x-www-form-urlencoded", []byte(`credit=3000&id=7`))
		if status != 200 || !strings.Contains(string(body), `"credit":3000`) || !strings.Contains(string(body), `"id":42`) {
			t.Fatalf("form PATCH: %d %s", status, body)
		}
	})
}

// TestExchangeRates: REST and JSON-RPC agree, for now, a past date and a cross rate.
func TestExchangeRates(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		type quote struct {
			From, To, Rate string
			EffectiveFrom  string  `json:"effective_from"`
			Via            *string `json:"via"`
			Rates          []struct {
				Rate string `json:"rate"`
			} `json:"rates"`
		}
		get := func(query string) (quote, quote) {
			var viaREST, viaRPC quote
			status, _, body := s.raw(t, keyAuth(w.keyA), "GET", "/accounting/currencies/exchange-rate?"+query, "", nil)
			if status != 200 || json.Unmarshal(body, &viaREST) != nil {
				t.Fatalf("REST %s: %d %s", query, status, body)
			}
			params := map[string]any{}
			for _, kv := range strings.Split(query, "&") {
				k, v, _ := strings.Cut(kv, "=")
				params[k] = v
			}
			s.ok(t, keyAuth(w.keyA), "accounting.currencies.get_rate", params, &viaRPC)
			b1, _ := json.Marshal(viaREST)
			b2, _ := json.Marshal(viaRPC)
			if string(b1) != string(b2) {
				t.Errorf("%s: REST %s ≠ RPC %s", query, b1, b2)
			}
			return viaREST, viaRPC
		}
		q, _ := get("from=EUR&to=USD")
		if q.Rate != "1.1" || q.Via != nil {
			t.Errorf("EUR→USD now: %+v", q)
		}
		q, _ = get("from=EUR&to=USD&at=2025-03-01")
		if q.Rate != "1.0842" || !strings.HasPrefix(q.EffectiveFrom, "2025-01-01") {
			t.Errorf("EUR→USD in March 2025: %+v", q)
		}
		q, _ = get("from=USD&to=EUR&at=2025-03-01")
		if q.Rate != "0.922339051835" {
			t.Errorf("reverse rate: %+v", q)
		}
		q, _ = get("from=EUR&to=GBP&at=2025-03-01")
		if q.Via == nil || *q.Via != "USD" || q.Rate != "0.86736" || len(q.Rates) != 2 {
			t.Errorf("cross EUR→GBP through USD: %+v", q)
		}
		status, _, body := s.raw(t, keyAuth(w.keyA), "GET", "/accounting/currencies/exchange-rate?from=EUR&to=USD&at=2024-01-01", "", nil)
		if status != 404 {
			t.Errorf("before any rate: %d %s", status, body)
		}
		wantCode(t, s.rpc(t, keyAuth(w.admin), "accounting.currencies.rates.create", map[string]any{"from": "EUR", "to": "USD", "rate": "1.2", "effective_from": "2025-01-01T00:00:00Z"}), "conflict", "second rate for the same instant")
		wantCode(t, s.rpc(t, keyAuth(w.admin), "accounting.currencies.rates.create", map[string]any{"from": "EUR", "to": "USD", "rate": "-1"}), "invalid_params", "negative rate")
		wantCode(t, s.rpc(t, keyAuth(w.admin), "accounting.currencies.rates.create", map[string]any{"from": "EUR", "to": "ZZZ", "rate": "1"}), "invalid_params", "unknown currency")
	})
}

// TestMoneyIsExact: JPY (0 decimals), USD (2) and BHD (3) amounts round-trip
// and convert without loss, rounding half to even once.
func TestMoneyIsExact(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		s.ok(t, a, "accounting.currencies.rates.create", map[string]any{"from": "USD", "to": "JPY", "rate": "150.125", "effective_from": "2020-01-01"}, nil)
		s.ok(t, a, "accounting.currencies.rates.create", map[string]any{"from": "USD", "to": "BHD", "rate": "0.376", "effective_from": "2020-01-01"}, nil)
		for _, cur := range []string{"JPY", "USD", "BHD"} {
			var c clientView
			s.ok(t, a, "clients.create", map[string]any{"name": "in " + cur, "currency": cur}, &c)
			const big = 9007199254740993 // 2^53+1: not representable as a float64
			var tx struct {
				Amount       int64 `json:"amount"`
				BalanceAfter int64 `json:"balance_after"`
			}
			s.ok(t, a, "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": json.Number(fmt.Sprint(big)), "type": "payment"}, &tx)
			s.ok(t, a, "clients.get", map[string]any{"id": c.ID}, &c)
			if tx.Amount != big || c.Balance != big {
				t.Errorf("%s: stored %d, balance %d, want %d", cur, tx.Amount, c.Balance, big)
			}
		}
		// 10.05 USD to JPY at 150.125 = 1508.75625 → 1509; to BHD at 0.376 = 3.7788 → 3.779 (3779 fils).
		conv := func(cur string, amount int64) (int64, string) {
			var c clientView
			s.ok(t, a, "clients.create", map[string]any{"name": "conv " + cur, "currency": cur}, &c)
			var tx struct {
				Amount         int64  `json:"amount"`
				OriginalAmount *int64 `json:"original_amount"`
				Rate           string `json:"rate"`
			}
			s.ok(t, a, "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": amount, "currency": "USD", "type": "payment"}, &tx)
			if tx.OriginalAmount == nil || *tx.OriginalAmount != amount {
				t.Errorf("original amount not recorded: %+v", tx)
			}
			return tx.Amount, tx.Rate
		}
		if got, rate := conv("JPY", 1005); got != 1509 || rate != "150.125" {
			t.Errorf("USD→JPY: %d at %s", got, rate)
		}
		if got, _ := conv("BHD", 1005); got != 3779 {
			t.Errorf("USD→BHD: %d", got)
		}
		// 0.02 USD to JPY at 150.125 = 3.0025 → 3; half-even at .5: 1 cent at 150 = 1.5 → 2.
		if got, _ := conv("JPY", 2); got != 3 {
			t.Errorf("USD→JPY small: %d", got)
		}
	})
}

// TestConcurrentDebits: 200 concurrent create_no_negative debits against one
// client never take balance + credit below zero, and the balance is exactly
// the sum of the accepted movements.
func TestConcurrentDebits(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		concurrentDebits(t, []*server{s})
	})
}

// TestConcurrentDebitsTwoProcesses: the same with two server processes on one PostgreSQL.
func TestConcurrentDebitsTwoProcesses(t *testing.T) {
	db := databases(t)["postgres"](t)
	s1 := startServer(t, db, nil)
	s2 := startServer(t, db, nil)
	concurrentDebits(t, []*server{s1, s2})
}

func concurrentDebits(t *testing.T, servers []*server) {
	a := keyAuth(adminKey)
	s := servers[0]
	var c clientView
	s.ok(t, a, "clients.create", map[string]any{"name": "prepaid", "currency": "USD", "credit": 1000}, &c)
	s.ok(t, a, "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": 5000, "type": "payment"}, nil)
	const n = 200
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted int64
		refused  int
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			amount := int64(10 + i%50) // 10..59 cents: 200 of them exceed 6000
			srv := servers[i%len(servers)]
			r := srv.rpc(t, a, "accounting.transactions.create_no_negative", map[string]any{"clients_id": c.ID, "amount": -amount, "type": "charge"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.Err == nil:
				accepted += amount
			case r.Err.dataCode() == "unprocessable" && strings.Contains(string(r.Err.Data), "low_balance"):
				refused++
			default:
				t.Errorf("debit %d: %+v", i, r.Err)
			}
		}(i)
	}
	wg.Wait()
	s.ok(t, a, "clients.get", map[string]any{"id": c.ID}, &c)
	if c.Balance != 5000-accepted {
		t.Errorf("balance %d, want %d (5000 - %d accepted)", c.Balance, 5000-accepted, accepted)
	}
	if c.Balance+c.Credit < 0 {
		t.Errorf("balance %d + credit %d below zero", c.Balance, c.Credit)
	}
	if refused == 0 {
		t.Error("no debit was refused: the test did not exhaust the balance")
	}
	// The ledger agrees with the balance, entry by entry.
	var txs []struct {
		Amount       int64 `json:"amount"`
		BalanceAfter int64 `json:"balance_after"`
	}
	s.ok(t, a, "accounting.transactions.search", map[string]any{"clients_id": c.ID, "limit": 1000, "order": "id"}, &txs)
	var sum int64
	for _, tx := range txs {
		sum += tx.Amount
		if tx.BalanceAfter != sum {
			t.Fatalf("balance_after %d ≠ running sum %d", tx.BalanceAfter, sum)
		}
	}
	if sum != c.Balance {
		t.Errorf("ledger sums to %d, balance is %d", sum, c.Balance)
	}
}

// TestLedgerRules: sign rules, low_balance, delete refusal, read-only balance.
func TestLedgerRules(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		var c clientView
		s.ok(t, a, "clients.create", map[string]any{"name": "rules", "credit": 100}, &c)
		r := s.rpc(t, a, "accounting.transactions.create_no_negative", map[string]any{"clients_id": c.ID, "amount": -101, "type": "charge"})
		if r.Err == nil || r.Err.Code != -32003 || !strings.Contains(string(r.Err.Data), "low_balance") {
			t.Errorf("over credit: %+v", r.Err)
		}
		status, _, body := s.raw(t, a, "POST", "/accounting/transactions/prepaid", "", []byte(fmt.Sprintf(`{"clients_id":%d,"amount":-101,"type":"charge"}`, c.ID)))
		if status != 422 || !strings.Contains(string(body), "low_balance") {
			t.Errorf("REST over credit: %d %s", status, body)
		}
		s.ok(t, a, "accounting.transactions.create_no_negative", map[string]any{"clients_id": c.ID, "amount": -100, "type": "charge"}, nil)
		wantCode(t, s.rpc(t, a, "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": -5, "type": "payment"}), "invalid_params", "negative payment")
		wantCode(t, s.rpc(t, a, "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": 0, "type": "adjustment"}), "invalid_params", "zero amount")
		wantCode(t, s.rpc(t, a, "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": 1, "type": "gift"}), "invalid_params", "unknown type")
		wantCode(t, s.rpc(t, a, "clients.update", map[string]any{"id": c.ID, "balance": 1000000}), "invalid_params", "writing the balance")
		wantCode(t, s.rpc(t, a, "clients.delete", map[string]any{"id": c.ID}), "unprocessable", "deleting a client with ledger entries")
		wantCode(t, s.rpc(t, a, "clients.update", map[string]any{"id": c.ID, "currency": "EUR"}), "unprocessable", "currency change with entries")
		s.ok(t, a, "clients.update", map[string]any{"id": c.ID, "status": "archived"}, nil)
		wantCode(t, s.rpc(t, a, "clients.create", map[string]any{"name": "x", "phone": "555-1234"}), "invalid_params", "non-E.164 phone")
		wantCode(t, s.rpc(t, a, "clients.create", map[string]any{"name": "x", "email": "not an email"}), "invalid_params", "bad email")
		wantCode(t, s.rpc(t, a, "clients.create", map[string]any{"name": "x", "currency": "ZZZ"}), "invalid_params", "unknown currency")
		wantCode(t, s.rpc(t, a, "clients.accounts.create", map[string]any{"clients_id": c.ID, "name": "x", "ips": []string{"10.0.0.0/33"}}), "invalid_params", "bad CIDR")
	})
}

// TestIdempotency: a repeat replays the first result; other params conflict;
// JSON-RPC uses __idempotency_key, REST the Idempotency-Key header.
func TestIdempotency(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		var c clientView
		s.ok(t, a, "clients.create", map[string]any{"name": "idem"}, &c)
		params := map[string]any{"clients_id": c.ID, "amount": 700, "type": "payment", "__idempotency_key": "pay-1"}
		var first, again struct {
			ID int64 `json:"id"`
		}
		s.ok(t, a, "accounting.transactions.create", params, &first)
		s.ok(t, a, "accounting.transactions.create", params, &again)
		if first.ID == 0 || first.ID != again.ID {
			t.Errorf("replay made a new transaction: %d then %d", first.ID, again.ID)
		}
		params["amount"] = 701
		r := s.rpc(t, a, "accounting.transactions.create", params)
		if r.Err == nil || r.Err.Code != -32002 {
			t.Errorf("same key, other params: %+v", r.Err)
		}
		body := []byte(fmt.Sprintf(`{"clients_id":%d,"amount":300,"type":"payment"}`, c.ID))
		hdr := auth{key: adminKey, header: map[string]string{"Idempotency-Key": "rest-1"}}
		st1, _, b1 := s.raw(t, hdr, "POST", "/accounting/transactions", "application/json", body)
		st2, _, b2 := s.raw(t, hdr, "POST", "/accounting/transactions", "application/json", body)
		if st1 != 201 || st2 >= 300 || canonical(t, b1, nil) != canonical(t, b2, nil) {
			t.Errorf("REST replay: %d %s / %d %s", st1, b1, st2, b2)
		}
		st3, _, _ := s.raw(t, hdr, "POST", "/accounting/transactions", "application/json", []byte(fmt.Sprintf(`{"clients_id":%d,"amount":301,"type":"payment"}`, c.ID)))
		if st3 != http.StatusConflict {
			t.Errorf("REST same key other body: %d", st3)
		}
		s.ok(t, a, "clients.get", map[string]any{"id": c.ID}, &c)
		if c.Balance != 1000 {
			t.Errorf("balance %d, want 1000 (700 once + 300 once)", c.Balance)
		}
		// Keys belong to their user: another user's same key is independent.
		w := newWorld(t, s)
		s.ok(t, keyAuth(w.keyA), "accounting.transactions.create", map[string]any{"clients_id": w.cA, "amount": 5, "type": "payment", "__idempotency_key": "pay-1"}, nil)
		// Concurrent repeats of one key make one transaction.
		var wg sync.WaitGroup
		ids := make([]int64, 20)
		for i := range ids {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := s.rpc(t, a, "accounting.transactions.create", map[string]any{"clients_id": c.ID, "amount": 1, "type": "payment", "__idempotency_key": "burst"})
				if r.Err == nil {
					var v idOnly
					_ = json.Unmarshal(r.Result, &v)
					ids[i] = v.ID
				} else if r.Err.Code != -32002 {
					t.Errorf("burst: %+v", r.Err)
				}
			}(i)
		}
		wg.Wait()
		s.ok(t, a, "clients.get", map[string]any{"id": c.ID}, &c)
		if c.Balance != 1001 {
			t.Errorf("burst of one key moved the balance to %d, want 1001", c.Balance)
		}
	})
}

// TestAuditTrail: changes record who, the request id and what changed.
func TestAuditTrail(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		w := newWorld(t, s)
		hdr := auth{key: w.keyA, header: map[string]string{"X-Request-Id": "req-audit-1"}}
		st, _, body := s.raw(t, hdr, "PATCH", fmt.Sprintf("/clients/%d", w.cA), "", []byte(`{"credit": 4242}`))
		if st != 200 {
			t.Fatalf("update: %d %s", st, body)
		}
		var rows []struct {
			UsersID   *int64         `json:"users_id"`
			APIKeysID *int64         `json:"api_keys_id"`
			RequestID string         `json:"request_id"`
			Method    string         `json:"method"`
			Action    string         `json:"action"`
			Changes   map[string]any `json:"changes"`
		}
		s.ok(t, keyAuth(w.keyA), "audit.search", map[string]any{"entity": "client", "entity_id": fmt.Sprint(w.cA), "action": "update"}, &rows)
		if len(rows) != 1 {
			t.Fatalf("audit rows: %+v", rows)
		}
		r := rows[0]
		credit, _ := json.Marshal(r.Changes["credit"])
		if r.UsersID == nil || *r.UsersID != w.uA || r.APIKeysID == nil || r.RequestID != "req-audit-1" || r.Method != "clients.update" || string(credit) != `{"from":500,"to":4242}` {
			t.Errorf("audit entry: %+v credit %s", r, credit)
		}
		var txRows []idOnly
		s.ok(t, keyAuth(w.keyA), "audit.search", map[string]any{"entity": "transaction", "entity_id": fmt.Sprint(w.txA)}, &txRows)
		if len(txRows) != 1 {
			t.Errorf("ledger entry not audited: %v", txRows)
		}
		// A limited principal sees the trail of its own clients' accounts.
		s.ok(t, keyAuth(w.keyA), "clients.accounts.update", map[string]any{"id": w.accA, "name": "renamed"}, nil)
		var accRows []idOnly
		s.ok(t, keyAuth(w.keyA), "audit.search", map[string]any{"entity": "account", "entity_id": fmt.Sprint(w.accA), "action": "update"}, &accRows)
		if len(accRows) != 1 {
			t.Errorf("account update not visible in A's audit trail: %v", accRows)
		}
	})
}

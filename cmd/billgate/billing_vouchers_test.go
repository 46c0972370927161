package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// voucherCatalog is a plan at 50.00 USD a month, for voucher tests.
func voucherCatalog(t *testing.T, s *server, a auth) (plan int64) {
	t.Helper()
	var prod, price, p idOnly
	s.ok(t, a, "billing.products.create", map[string]any{"name": uniq("vouchered ")}, &prod)
	s.ok(t, a, "billing.prices.create", map[string]any{"products_id": prod.ID, "amount": 5000, "currency": "USD", "recurring": true, "schedule": "month"}, &price)
	s.ok(t, a, "billing.plans.create", map[string]any{"products_id": prod.ID, "code_name": uniq("v"), "name": "V", "prices": []int64{price.ID}}, &p)
	return p.ID
}

func voucherClient(t *testing.T, s *server, a auth, taxRate string) int64 {
	t.Helper()
	var c idOnly
	s.ok(t, a, "clients.create", map[string]any{"name": uniq("voucher client "), "currency": "USD", "timezone": "UTC", "standard_tax_rate": taxRate}, &c)
	return c.ID
}

func voucherCode(t *testing.T, s *server, a auth, params map[string]any) string {
	t.Helper()
	params["code"] = uniq("CODE")
	s.ok(t, a, "billing.vouchers.create", params, nil)
	return params["code"].(string)
}

// TestVoucherLowersNextInvoice: a fixed voucher applied once lowers the next
// cycle invoice by exactly its amount, and not the one after; it cannot be
// applied twice to a client. A repeating 12.5% voucher lowers two invoices
// (tax from the discounted amounts), not the third. Caps and expiry refuse.
func TestVoucherLowersNextInvoice(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(testKeyFor(t, s))
		day := func(m time.Month, d int) time.Time { return time.Date(2095, m, d, 0, 0, 0, 0, time.UTC) }
		advance(t, s, a, day(1, 1))
		plan := voucherCatalog(t, s, a)
		fixed, repeating := voucherClient(t, s, a, "0"), voucherClient(t, s, a, "10")
		for _, c := range []int64{fixed, repeating} {
			s.ok(t, a, "billing.subscriptions.create", map[string]any{"clients_id": c, "plan": plan}, nil)
		}
		seven := voucherCode(t, s, a, map[string]any{"type": "fixed", "amount": 700, "currency": "USD", "max_redemptions": 1})
		pct := voucherCode(t, s, a, map[string]any{"type": "percentage", "percentage": "12.5", "duration": "repeating", "cycles": 2})
		var red struct {
			CyclesLeft int `json:"cycles_left"`
		}
		s.ok(t, a, "clients.vouchers.apply", map[string]any{"id": fixed, "code": seven}, &red)
		if red.CyclesLeft != 1 {
			t.Fatalf("redemption: %+v", red)
		}
		r := s.rpc(t, a, "clients.vouchers.apply", map[string]any{"id": fixed, "code": seven})
		if r.Err == nil || r.Err.dataCode() != "conflict" || r.Err.field("code") == "" {
			t.Fatalf("applied twice: %+v %s", r.Err, r.Result)
		}
		r = s.rpc(t, a, "clients.vouchers.apply", map[string]any{"id": repeating, "code": seven})
		if r.Err == nil || !strings.Contains(string(r.Err.Data), "voucher_exhausted") {
			t.Fatalf("past the usage cap: %+v %s", r.Err, r.Result)
		}
		s.ok(t, a, "clients.vouchers.apply", map[string]any{"id": repeating, "code": pct}, nil)
		for _, m := range []time.Month{2, 3, 4} {
			advance(t, s, a, day(m, 1))
		}

		invs := clientInvoices(t, s, a, fixed)
		if len(invs) != 4 || invs[0].Total != 5000 || invs[1].Total != 5000-700 || invs[2].Total != 5000 || invs[3].Total != 5000 {
			t.Fatalf("fixed voucher: totals %v", totals(invs))
		}
		if l := invs[1].Lines; len(l) != 2 || l[1].Kind != "discount" || l[1].Amount != -700 || !strings.Contains(l[1].Description, seven) {
			t.Errorf("discount line: %+v", l)
		}
		invs = clientInvoices(t, s, a, repeating)
		if len(invs) != 4 {
			t.Fatalf("%d invoices", len(invs))
		}
		for i, inv := range invs {
			if i == 1 || i == 2 {
				if len(inv.Lines) != 2 || inv.Lines[1].Amount != -625 {
					t.Errorf("invoice %d: %+v", i, inv.Lines)
				}
				wantTotals(t, inv, frac(4375, 1), 10) // tax 437.5 → 438, half to even
				if inv.Total != 4375+438 {
					t.Errorf("invoice %d total %d", i, inv.Total)
				}
			} else if inv.Total != 5500 {
				t.Errorf("invoice %d total %d, want 5500 (no discount)", i, inv.Total)
			}
		}

		late := voucherCode(t, s, a, map[string]any{"type": "percentage", "percentage": "5", "expires_at": day(4, 2).Format(time.RFC3339)})
		advance(t, s, a, day(4, 3))
		r = s.rpc(t, a, "clients.vouchers.apply", map[string]any{"id": fixed, "code": late})
		if r.Err == nil || !strings.Contains(string(r.Err.Data), "voucher_expired") {
			t.Errorf("expired voucher: %+v %s", r.Err, r.Result)
		}
		wantCode(t, s.rpc(t, a, "clients.vouchers.apply", map[string]any{"id": fixed, "code": "NO-SUCH-CODE"}), "not_found", "unknown code")
	})
}

func totals(invs []invoiceView) []int64 {
	out := make([]int64, len(invs))
	for i, inv := range invs {
		out[i] = inv.Total
	}
	return out
}

// TestVoucherRaces: 6 concurrent applications of one voucher to one client
// succeed once (the unique index); 6 of a voucher capped at 1 to 6 clients
// succeed once (the conditional increment). Two server processes on
// PostgreSQL.
func TestVoucherRaces(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		servers := []*server{s}
		if strings.HasPrefix(s.DBURL, "postgres") {
			servers = append(servers, startServer(t, s.DBURL, nil))
		}
		race := func(code string, clients []int64) (ok int, codes []string) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			for i, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := servers[i%len(servers)].rpc(t, a, "clients.vouchers.apply", map[string]any{"id": c, "code": code})
					mu.Lock()
					defer mu.Unlock()
					if r.Err == nil {
						ok++
						return
					}
					codes = append(codes, r.Err.dataCode())
				}()
			}
			wg.Wait()
			return ok, codes
		}
		one := voucherClient(t, s, a, "0")
		if ok, codes := race(voucherCode(t, s, a, map[string]any{"type": "percentage", "percentage": "1"}),
			[]int64{one, one, one, one, one, one}); ok != 1 || len(codes) != 5 || strings.Count(fmt.Sprint(codes), "conflict") != 5 {
			t.Errorf("one client: %d applied, refusals %v", ok, codes)
		}
		var many []int64
		for range 6 {
			many = append(many, voucherClient(t, s, a, "0"))
		}
		capped := voucherCode(t, s, a, map[string]any{"type": "percentage", "percentage": "1", "max_redemptions": 1})
		if ok, codes := race(capped, many); ok != 1 || len(codes) != 5 || strings.Count(fmt.Sprint(codes), "unprocessable") != 5 {
			t.Errorf("capped: %d applied, refusals %v", ok, codes)
		}
		var v struct {
			TimesRedeemed int `json:"times_redeemed"`
		}
		var vs []struct {
			TimesRedeemed int `json:"times_redeemed"`
		}
		s.ok(t, a, "billing.vouchers.search", map[string]any{"code": capped}, &vs)
		if len(vs) == 1 {
			v = vs[0]
		}
		if v.TimesRedeemed != 1 {
			t.Errorf("capped voucher redeemed %d times", v.TimesRedeemed)
		}
	})
}

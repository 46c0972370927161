package main

import (
	"sync"
	"testing"
)

// The parity, reseller-isolation and mode-isolation rows of the billing
// lifecycle II (issue 7: payments, refunds, receipts, vouchers, usage,
// checkout, client limits), merged into the registry-wide tables.
func init() {
	for _, m := range []struct {
		dst map[string]isoCase
		src map[string]isoCase
	}{{isolationCases, billingIIIsolation}, {modeCases, billingIIMode}} {
		for k, v := range m.src {
			m.dst[k] = v
		}
	}
	for k, v := range billingIIParity {
		parityCases[k] = v
	}
}

// iiSide is what the issue 7 fixture makes for one owner and mode: a metric,
// a metered and a one-off price, a plan with both and a subscription to it,
// a payment (of the issue 6 fixture's invoice) with a refund, a voucher, a
// usage event, a usage limit and a checkout.
type iiSide struct {
	metric, metered, oneOff, plan, sub     int64
	payment, refund, voucher, event, limit int64
	checkout                               int64
	metricCode, voucherCode                string
}

// billingIIFixture is that for reseller A (live and test mode) and B.
type billingIIFixture struct {
	A, AT, B iiSide
}

var (
	fixturesIIMu sync.Mutex
	fixturesII   = map[*world]*billingIIFixture{}
)

// bf2 returns the issue 7 fixture of w, made on first use.
func bf2(t *testing.T, w *world) *billingIIFixture {
	t.Helper()
	f := bf(t, w)
	fixturesIIMu.Lock()
	defer fixturesIIMu.Unlock()
	if x, ok := fixturesII[w]; ok {
		return x
	}
	x := &billingIIFixture{}
	x.A = makeIISide(t, w.s, w.keyA, w.cA, f.pA, f.prA, f.invA)
	x.AT = makeIISide(t, w.s, w.keyATest, w.cATest, f.pAT, f.prAT, f.invAT)
	x.B = makeIISide(t, w.s, w.keyB, w.cB, f.pB, f.prB, f.invB)
	fixturesII[w] = x
	return x
}

func makeIISide(t *testing.T, s *server, key string, client, product, flat, invoice int64) iiSide {
	t.Helper()
	a := keyAuth(key)
	mk := func(method string, params map[string]any) int64 {
		t.Helper()
		var v idOnly
		s.ok(t, a, method, params, &v)
		return v.ID
	}
	var x iiSide
	x.metricCode, x.voucherCode = uniq("calls"), uniq("V")
	x.metric = mk("billing.metrics.create", map[string]any{"code": x.metricCode, "name": "API calls", "aggregation": "sum"})
	x.metered = mk("billing.prices.create", map[string]any{"products_id": product, "amount": 5, "currency": "USD", "recurring": true,
		"schedule": "month", "usage_metric": x.metricCode})
	x.oneOff = mk("billing.prices.create", map[string]any{"products_id": product, "amount": 700, "currency": "USD", "recurring": false})
	x.plan = mk("billing.plans.create", map[string]any{"products_id": product, "code_name": uniq("usage"), "name": "Usage",
		"prices": []int64{flat, x.metered}, "features": []string{"api", "sso"}, "limits": map[string]any{"api": 100}, "user_count": 3})
	x.sub = mk("billing.subscriptions.create", map[string]any{"clients_id": client, "plan": x.plan, "price": flat})
	x.payment = mk("billing.payments.create", map[string]any{"clients_id": client, "invoices": []int64{invoice}, "amount": 500,
		"external_reference": uniq("ref")})
	x.refund = mk("billing.payments.refund", map[string]any{"id": x.payment, "amount": 100, "reason": "fixture"})
	x.voucher = mk("billing.vouchers.create", map[string]any{"code": x.voucherCode, "type": "fixed", "amount": 100, "currency": "USD"})
	x.event = mk("billing.usage.events.create", map[string]any{"event_id": uniq("ev"), "subscription": x.sub, "code": x.metricCode, "value": 3})
	x.limit = mk("billing.usage.limits.create", map[string]any{"clients_id": client, "amount": 1_000_000_000, "action": "WARNING"})
	x.checkout = mk("billing.checkout.create", map[string]any{"clients_id": client, "lines": []map[string]any{{"price": x.oneOff, "quantity": 2}}})
	return x
}

// freshPayment records a new payment of 300 on a new finalized invoice of A's client.
func freshPayment(t *testing.T, w *world) int64 {
	t.Helper()
	var v idOnly
	w.s.ok(t, keyA(w), "billing.payments.create", map[string]any{"clients_id": w.cA, "invoices": []int64{freshInvoice(t, w, true)},
		"amount": 300, "method": "cash"}, &v)
	return v.ID
}

// freshVoucher makes a new 10% voucher of A's and returns its id and code.
func freshVoucher(t *testing.T, w *world) (int64, string) {
	t.Helper()
	var v struct {
		ID   int64  `json:"id"`
		Code string `json:"code"`
	}
	w.s.ok(t, keyA(w), "billing.vouchers.create", map[string]any{"code": uniq("P"), "type": "percentage", "percentage": "10"}, &v)
	return v.ID, v.Code
}

func freshID(t *testing.T, w *world, method string, params map[string]any) int64 {
	t.Helper()
	var v idOnly
	w.s.ok(t, keyA(w), method, params, &v)
	return v.ID
}

var paymentStamps = ignoring("id", "invoices", "transactions_id", "received_at", "external_reference")

var billingIIParity = map[string]parityCase{
	"billing.payments.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf2(t, w)
		return keyA(w), map[string]any{"clients_id": w.cA, "order": "-id", "limit": 5}, nil
	},
	"billing.payments.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf2(t, w).A.payment}, nil
	},
	"billing.payments.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"clients_id": w.cA, "invoices": []int64{freshInvoice(t, w, true)}, "amount": 1200,
			"external_reference": uniq("wire"), "notes": "parity"}, paymentStamps
	},
	"billing.payments.refund": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": freshPayment(t, w), "amount": 120, "currency": "usd", "reason": "parity"},
			[]string{"id", "payments_id", "transactions_id", "created_at"}
	},
	"billing.clients.payments": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf2(t, w)
		return keyA(w), map[string]any{"clients_id": w.cA, "order": "id", "limit": 2}, nil
	},
	"billing.refunds.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"payments_id": bf2(t, w).A.payment}, nil
	},
	"billing.refunds.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf2(t, w).A.refund}, nil
	},
	"billing.clients.refunds": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf2(t, w)
		return keyA(w), map[string]any{"clients_id": w.cA, "order": "id", "limit": 3}, nil
	},
	"billing.receipts.pdf": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf2(t, w).A.payment}, []string{"id", "filename"}
	},
	"billing.vouchers.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf2(t, w)
		return keyA(w), map[string]any{"type": "fixed", "order": "-id"}, nil
	},
	"billing.vouchers.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf2(t, w).A.voucher}, nil
	},
	"billing.vouchers.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"code": uniq("SPRING"), "name": "Spring", "type": "percentage", "percentage": "12.5",
			"duration": "repeating", "cycles": 3, "expires_at": "2099-01-01T00:00:00Z", "max_redemptions": 10}, ignoring("id", "code")
	},
	"billing.vouchers.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf2(t, w).A.voucher, "name": "Welcome", "max_redemptions": 50}, ignoring()
	},
	"billing.vouchers.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		id, _ := freshVoucher(t, w)
		return keyA(w), map[string]any{"id": id}, []string{"id"}
	},
	"clients.vouchers.apply": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		_, code := freshVoucher(t, w)
		return keyA(w), map[string]any{"id": w.cA, "code": code}, []string{"id", "vouchers_id", "code", "applied_at", "created_at"}
	},
	"billing.metrics.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf2(t, w)
		return keyA(w), map[string]any{"aggregation": "sum", "order": "-id"}, nil
	},
	"billing.metrics.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf2(t, w).A.metric}, nil
	},
	"billing.metrics.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"code": uniq("seats"), "name": "Active seats", "aggregation": "unique_count", "property": "user"}, ignoring("id", "code")
	},
	"billing.metrics.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf2(t, w).A.metric, "name": "Calls"}, ignoring()
	},
	"billing.metrics.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		id := freshID(t, w, "billing.metrics.create", map[string]any{"code": uniq("gone"), "name": "Gone"})
		return keyA(w), map[string]any{"id": id}, []string{"id"}
	},
	"billing.usage.events.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		x := bf2(t, w).A
		return keyA(w), map[string]any{"event_id": uniq("evt"), "subscription": x.sub, "code": x.metricCode, "value": 2.5,
			"properties": map[string]any{"region": "eu"}}, []string{"id", "event_id", "occurred_at", "created_at"}
	},
	"billing.usage.events.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"subscriptions_id": bf2(t, w).A.sub, "order": "-id", "limit": 5}, nil
	},
	"billing.usage.events.count": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"subscriptions_id": bf2(t, w).A.sub}, nil
	},
	"billing.usage.estimate": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf2(t, w)
		return keyA(w), map[string]any{"clients_id": w.cA}, []string{"at"}
	},
	"billing.usage.limits.search": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf2(t, w)
		return keyA(w), map[string]any{"clients_id": w.cA, "action": "WARNING"}, nil
	},
	"billing.usage.limits.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"clients_id": w.cA, "amount": 2_000_000_000, "action": "DISABLE"}, ignoring("id")
	},
	"billing.usage.limits.delete": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		id := freshID(t, w, "billing.usage.limits.create", map[string]any{"clients_id": w.cA, "amount": 5, "action": "WARNING"})
		return keyA(w), map[string]any{"clients_id": w.cA, "id": id}, []string{"id"}
	},
	"billing.checkout.create": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		x := bf2(t, w).A
		return keyA(w), map[string]any{"clients_id": w.cA, "lines": []map[string]any{{"price": x.oneOff, "quantity": 3}}}, ignoring("id")
	},
	"billing.checkout.get": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return keyA(w), map[string]any{"id": bf2(t, w).A.checkout}, nil
	},
	"billing.checkout.confirm": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		x := bf2(t, w).A
		id := freshID(t, w, "billing.checkout.create", map[string]any{"clients_id": w.cA, "lines": []map[string]any{{"price": x.oneOff}}})
		return keyA(w), map[string]any{"id": id}, ignoring("id", "invoices_id", "confirmed_at")
	},
	"clients.limits": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		bf2(t, w)
		return keyA(w), map[string]any{"id": w.cA}, nil
	},
}

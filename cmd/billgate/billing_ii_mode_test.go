package main

import (
	"testing"
)

// testSide and liveSide pick, for a mode check, the test-mode object a test
// key must see and the live one it must not.
func testSide(pick func(s iiSide) int64) func(x *billingIIFixture) int64 {
	return func(x *billingIIFixture) int64 { return pick(x.AT) }
}

func liveSide(pick func(s iiSide) int64) func(x *billingIIFixture) int64 {
	return func(x *billingIIFixture) int64 { return pick(x.A) }
}

// modeList is a mode check of a list: the test key sees the test-mode
// object and not the live one.
func modeList(method string, pick func(s iiSide) int64) isoCase {
	return seesOnly(method, testSide(pick), liveSide(pick))
}

// billingIIMode: a test key never reaches live payments, refunds, receipts,
// vouchers, metrics, usage or checkouts.
var billingIIMode = map[string]isoCase{
	"billing.payments.search": modeList("billing.payments.search", func(s iiSide) int64 { return s.payment }),
	"billing.payments.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.payments.get", map[string]any{"id": x.A.payment}
	}),
	"billing.payments.create": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		wantNotFound(t, call("billing.payments.create", map[string]any{"clients_id": w.cA, "amount": 100}), "pay a live client")
		wantNotFound(t, call("billing.payments.create", map[string]any{"clients_id": w.cATest, "invoices": []int64{f.invA}}), "pay a live invoice")
	},
	"billing.payments.refund": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.payments.refund", map[string]any{"id": x.A.payment, "amount": 1}
	}),
	"billing.clients.payments": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.clients.payments", map[string]any{"clients_id": w.cA}
	}),
	"billing.refunds.search": modeList("billing.refunds.search", func(s iiSide) int64 { return s.refund }),
	"billing.refunds.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.refunds.get", map[string]any{"id": x.A.refund}
	}),
	"billing.clients.refunds": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.clients.refunds", map[string]any{"clients_id": w.cA}
	}),
	"billing.receipts.pdf": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.receipts.pdf", map[string]any{"id": x.A.payment}
	}),
	"billing.vouchers.search": modeList("billing.vouchers.search", func(s iiSide) int64 { return s.voucher }),
	"billing.vouchers.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.vouchers.get", map[string]any{"id": x.A.voucher}
	}),
	"billing.vouchers.create": func(t *testing.T, w *world, call caller) {
		var v struct {
			LiveMode bool `json:"live_mode"`
		}
		r := call("billing.vouchers.create", map[string]any{"code": uniq("T"), "type": "percentage", "percentage": "1"})
		if r.Err != nil || decode(t, r, &v) != nil || v.LiveMode {
			t.Errorf("voucher made with a test key: %+v %s", r.Err, r.Result)
		}
	},
	"billing.vouchers.update": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.vouchers.update", map[string]any{"id": x.A.voucher, "active": false}
	}),
	"billing.vouchers.delete": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.vouchers.delete", map[string]any{"id": x.A.voucher}
	}),
	"clients.vouchers.apply": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "clients.vouchers.apply", map[string]any{"id": w.cA, "code": x.AT.voucherCode}
	}, func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "clients.vouchers.apply", map[string]any{"id": w.cATest, "code": x.A.voucherCode}
	}),
	"billing.metrics.search": modeList("billing.metrics.search", func(s iiSide) int64 { return s.metric }),
	"billing.metrics.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.metrics.get", map[string]any{"id": x.A.metric}
	}),
	"billing.metrics.create": func(t *testing.T, w *world, call caller) {
		var m struct {
			LiveMode bool `json:"live_mode"`
		}
		r := call("billing.metrics.create", map[string]any{"code": uniq("t"), "name": "made in test"})
		if r.Err != nil || decode(t, r, &m) != nil || m.LiveMode {
			t.Errorf("metric made with a test key: %+v %s", r.Err, r.Result)
		}
	},
	"billing.metrics.update": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.metrics.update", map[string]any{"id": x.A.metric, "name": "x"}
	}),
	"billing.metrics.delete": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.metrics.delete", map[string]any{"id": x.A.metric}
	}),
	"billing.usage.events.create": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.events.create", map[string]any{"event_id": uniq("e"), "subscription": x.A.sub, "code": x.A.metricCode}
	}, func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.events.create", map[string]any{"event_id": uniq("e"), "subscription": x.AT.sub, "code": x.A.metricCode}
	}),
	"billing.usage.events.search": modeList("billing.usage.events.search", func(s iiSide) int64 { return s.event }),
	"billing.usage.events.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("billing.usage.events.count", map[string]any{"subscriptions_id": bf2(t, w).A.sub})); n != 0 {
			t.Errorf("a test key counts %d live events", n)
		}
	},
	"billing.usage.estimate": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.estimate", map[string]any{"clients_id": w.cA}
	}),
	"billing.usage.limits.search": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.limits.search", map[string]any{"clients_id": w.cA}
	}),
	"billing.usage.limits.create": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.limits.create", map[string]any{"clients_id": w.cA, "amount": 1, "action": "WARNING"}
	}),
	"billing.usage.limits.delete": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.limits.delete", map[string]any{"clients_id": w.cA, "id": x.A.limit}
	}, func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.limits.delete", map[string]any{"clients_id": w.cATest, "id": x.A.limit}
	}),
	"billing.checkout.create": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.checkout.create", map[string]any{"clients_id": w.cA, "lines": []map[string]any{{"price": x.AT.oneOff}}}
	}, func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.checkout.create", map[string]any{"clients_id": w.cATest, "lines": []map[string]any{{"price": x.A.oneOff}}}
	}),
	"billing.checkout.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.checkout.get", map[string]any{"id": x.A.checkout}
	}),
	"billing.checkout.confirm": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.checkout.confirm", map[string]any{"id": x.A.checkout}
	}),
	"clients.limits": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "clients.limits", map[string]any{"id": w.cA}
	}),
}

package main

import (
	"testing"
)

// nf2 is an isolation check over the issue 7 fixture: every call must
// answer not_found.
func nf2(calls ...func(x *billingIIFixture, w *world) (string, map[string]any)) isoCase {
	return func(t *testing.T, w *world, call caller) {
		x := bf2(t, w)
		for _, c := range calls {
			m, p := c(x, w)
			wantNotFound(t, call(m, p), m)
		}
	}
}

// seesOnly checks a list of everything the caller sees: it must hold the
// object want picks and not the one hide picks.
func seesOnly(method string, want, hide func(x *billingIIFixture) int64) isoCase {
	return func(t *testing.T, w *world, call caller) {
		x := bf2(t, w)
		ids := idsOf(t, call(method, map[string]any{"limit": 1000}))
		if !ids[want(x)] || ids[hide(x)] {
			t.Errorf("%s: want %d and not %d in %v", method, want(x), hide(x), ids)
		}
	}
}

// billingIIIsolation: a principal limited to reseller A never reaches B's
// payments, refunds, receipts, vouchers, metrics, usage or checkouts.
var billingIIIsolation = map[string]isoCase{
	"billing.payments.search": seesOnly("billing.payments.search",
		func(x *billingIIFixture) int64 { return x.A.payment }, func(x *billingIIFixture) int64 { return x.B.payment }),
	"billing.payments.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.payments.get", map[string]any{"id": x.B.payment}
	}),
	"billing.payments.create": func(t *testing.T, w *world, call caller) {
		f := bf(t, w)
		wantNotFound(t, call("billing.payments.create", map[string]any{"clients_id": w.cB, "amount": 100}), "pay for B's client")
		wantNotFound(t, call("billing.payments.create", map[string]any{"clients_id": w.cA, "invoices": []int64{f.invB}}), "pay B's invoice")
	},
	"billing.payments.refund": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.payments.refund", map[string]any{"id": x.B.payment, "amount": 1}
	}),
	"billing.clients.payments": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.clients.payments", map[string]any{"clients_id": w.cB}
	}),
	"billing.refunds.search": seesOnly("billing.refunds.search",
		func(x *billingIIFixture) int64 { return x.A.refund }, func(x *billingIIFixture) int64 { return x.B.refund }),
	"billing.refunds.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.refunds.get", map[string]any{"id": x.B.refund}
	}),
	"billing.clients.refunds": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.clients.refunds", map[string]any{"clients_id": w.cB}
	}),
	"billing.receipts.pdf": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.receipts.pdf", map[string]any{"id": x.B.payment}
	}),
	"billing.vouchers.search": seesOnly("billing.vouchers.search",
		func(x *billingIIFixture) int64 { return x.A.voucher }, func(x *billingIIFixture) int64 { return x.B.voucher }),
	"billing.vouchers.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.vouchers.get", map[string]any{"id": x.B.voucher}
	}),
	"billing.vouchers.create": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.vouchers.create", map[string]any{"code": uniq("X"), "type": "percentage", "percentage": "5", "resellers_id": w.B}
	}),
	"billing.vouchers.update": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.vouchers.update", map[string]any{"id": x.B.voucher, "active": false}
	}),
	"billing.vouchers.delete": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.vouchers.delete", map[string]any{"id": x.B.voucher}
	}),
	"clients.vouchers.apply": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "clients.vouchers.apply", map[string]any{"id": w.cB, "code": x.A.voucherCode}
	}, func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "clients.vouchers.apply", map[string]any{"id": w.cA, "code": x.B.voucherCode}
	}),
	"billing.metrics.search": seesOnly("billing.metrics.search",
		func(x *billingIIFixture) int64 { return x.A.metric }, func(x *billingIIFixture) int64 { return x.B.metric }),
	"billing.metrics.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.metrics.get", map[string]any{"id": x.B.metric}
	}),
	"billing.metrics.create": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.metrics.create", map[string]any{"code": uniq("x"), "name": "x", "resellers_id": w.B}
	}),
	"billing.metrics.update": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.metrics.update", map[string]any{"id": x.B.metric, "name": "mine"}
	}),
	"billing.metrics.delete": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.metrics.delete", map[string]any{"id": x.B.metric}
	}),
	"billing.usage.events.create": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.events.create", map[string]any{"event_id": uniq("e"), "subscription": x.B.sub, "code": x.B.metricCode}
	}, func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.events.create", map[string]any{"event_id": uniq("e"), "subscription": x.A.sub, "code": x.B.metricCode}
	}),
	"billing.usage.events.search": seesOnly("billing.usage.events.search",
		func(x *billingIIFixture) int64 { return x.A.event }, func(x *billingIIFixture) int64 { return x.B.event }),
	"billing.usage.events.count": func(t *testing.T, w *world, call caller) {
		if n := countOf(t, call("billing.usage.events.count", map[string]any{"subscriptions_id": bf2(t, w).B.sub})); n != 0 {
			t.Errorf("A counts %d of B's events", n)
		}
	},
	"billing.usage.estimate": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.estimate", map[string]any{"clients_id": w.cB}
	}),
	"billing.usage.limits.search": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.limits.search", map[string]any{"clients_id": w.cB}
	}),
	"billing.usage.limits.create": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.limits.create", map[string]any{"clients_id": w.cB, "amount": 1, "action": "DISABLE"}
	}),
	"billing.usage.limits.delete": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.limits.delete", map[string]any{"clients_id": w.cB, "id": x.B.limit}
	}, func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.usage.limits.delete", map[string]any{"clients_id": w.cA, "id": x.B.limit}
	}),
	"billing.checkout.create": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.checkout.create", map[string]any{"clients_id": w.cB, "lines": []map[string]any{{"price": x.B.oneOff}}}
	}, func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.checkout.create", map[string]any{"clients_id": w.cA, "lines": []map[string]any{{"price": x.B.oneOff}}}
	}),
	"billing.checkout.get": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.checkout.get", map[string]any{"id": x.B.checkout}
	}),
	"billing.checkout.confirm": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "billing.checkout.confirm", map[string]any{"id": x.B.checkout}
	}),
	"clients.limits": nf2(func(x *billingIIFixture, w *world) (string, map[string]any) {
		return "clients.limits", map[string]any{"id": w.cB}
	}),
}

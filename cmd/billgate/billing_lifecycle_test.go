package main

import (
	"encoding/json"
	"math/big"
	"testing"
	"time"
)

// Views of the billing objects, decoded from the API's answers.
type (
	subView struct {
		ID                 int64      `json:"id"`
		ClientsID          int64      `json:"clients_id"`
		PlansID            int64      `json:"plans_id"`
		PricesID           int64      `json:"prices_id"`
		Status             string     `json:"status"`
		Seats              int64      `json:"seats"`
		TrialEndsAt        *time.Time `json:"trial_ends_at"`
		BillingAnchor      *time.Time `json:"billing_anchor"`
		CurrentPeriodStart time.Time  `json:"current_period_start"`
		CurrentPeriodEnd   time.Time  `json:"current_period_end"`
		CancelAt           *time.Time `json:"cancel_at"`
		EndedAt            *time.Time `json:"ended_at"`
		PendingPricesID    *int64     `json:"pending_prices_id"`
	}
	lineView struct {
		Position    int        `json:"position"`
		Kind        string     `json:"kind"`
		Description string     `json:"description"`
		Quantity    int64      `json:"quantity"`
		UnitAmount  int64      `json:"unit_amount"`
		Amount      int64      `json:"amount"`
		TaxRate     string     `json:"tax_rate"`
		PeriodStart *time.Time `json:"period_start"`
		PeriodEnd   *time.Time `json:"period_end"`
	}
	invoiceView struct {
		ID              int64      `json:"id"`
		Number          *int64     `json:"number"`
		ClientsID       int64      `json:"clients_id"`
		SubscriptionsID *int64     `json:"subscriptions_id"`
		Kind            string     `json:"kind"`
		Status          string     `json:"status"`
		Currency        string     `json:"currency"`
		Subtotal        int64      `json:"subtotal"`
		Tax             int64      `json:"tax"`
		Total           int64      `json:"total"`
		PeriodStart     *time.Time `json:"period_start"`
		PeriodEnd       *time.Time `json:"period_end"`
		IssuedAt        time.Time  `json:"issued_at"`
		TransactionsID  *int64     `json:"transactions_id"`
		Lines           []lineView `json:"lines"`
	}
	runView struct {
		Mode          string  `json:"mode"`
		Subscriptions []int64 `json:"subscriptions"`
		Invoices      []int64 `json:"invoices"`
		Failed        []struct {
			SubscriptionsID int64  `json:"subscriptions_id"`
			Message         string `json:"message"`
		} `json:"failed"`
	}
	advanceView struct {
		Clock struct {
			Now time.Time `json:"now"`
		} `json:"clock"`
		Run runView `json:"run"`
	}
)

// halfEven rounds r to an integer, half to even — the test's own rounding,
// written apart from pkg/money so the expectations do not reuse production code.
func halfEven(r *big.Rat) int64 {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, m := new(big.Int).DivMod(num, den, new(big.Int))
	switch new(big.Int).Lsh(m, 1).Cmp(den) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	if neg {
		q.Neg(q)
	}
	return q.Int64()
}

// frac is a/b as an exact rational, for expectations.
func frac(a, b int64) *big.Rat { return big.NewRat(a, b) }

// share is the test's proration share: (end − at) / (end − start) in seconds.
func share(at, start, end time.Time) *big.Rat {
	return big.NewRat(int64(end.Sub(at)/time.Second), int64(end.Sub(start)/time.Second))
}

// mul multiplies an integer amount by rationals.
func mul(amount int64, fs ...*big.Rat) *big.Rat {
	r := big.NewRat(amount, 1)
	for _, f := range fs {
		r.Mul(r, f)
	}
	return r
}

// testKeyFor returns a new test-mode key of the admin user.
func testKeyFor(t *testing.T, s *server) string {
	t.Helper()
	var admins []idOnly
	s.ok(t, keyAuth(adminKey), "iam.users.search", map[string]any{"login": "admin"}, &admins)
	var k keyReply
	s.ok(t, keyAuth(adminKey), "iam.api_keys.create", map[string]any{"users_id": admins[0].ID, "mode": "test"}, &k)
	return k.Key
}

// catalog is a product with two monthly EUR prices and a plan for each.
type catalog struct {
	product, basicPrice, proPrice, basic, pro int64
}

func makeCatalog(t *testing.T, s *server, a auth, trialDays int, perSeat bool) catalog {
	t.Helper()
	var c catalog
	var v idOnly
	s.ok(t, a, "billing.products.create", map[string]any{"name": uniq("Cloud "), "tax_type": "digital"}, &v)
	c.product = v.ID
	s.ok(t, a, "billing.prices.create", map[string]any{"products_id": c.product, "amount": 1999, "currency": "EUR", "recurring": true, "schedule": "month"}, &v)
	c.basicPrice = v.ID
	s.ok(t, a, "billing.prices.create", map[string]any{"products_id": c.product, "amount": 4999, "currency": "EUR", "recurring": true, "schedule": "month"}, &v)
	c.proPrice = v.ID
	s.ok(t, a, "billing.plans.create", map[string]any{"products_id": c.product, "code_name": uniq("basic"), "name": "Basic",
		"prices": []int64{c.basicPrice}, "free_trial_days": trialDays, "per_seat": perSeat}, &v)
	c.basic = v.ID
	s.ok(t, a, "billing.plans.create", map[string]any{"products_id": c.product, "code_name": uniq("pro"), "name": "Pro",
		"prices": []int64{c.proPrice}, "per_seat": perSeat}, &v)
	c.pro = v.ID
	return c
}

// advance moves the test clock to `to` and returns the run it made.
func advance(t *testing.T, s *server, a auth, to time.Time) runView {
	t.Helper()
	var r advanceView
	s.ok(t, a, "billing.test_clock.advance", map[string]any{"to": to.Format(time.RFC3339)}, &r)
	if !r.Clock.Now.Equal(to) {
		t.Fatalf("clock at %s after advancing to %s", r.Clock.Now, to)
	}
	if len(r.Run.Failed) > 0 {
		t.Fatalf("billing run failures: %+v", r.Run.Failed)
	}
	return r.Run
}

func clientInvoices(t *testing.T, s *server, a auth, client int64) []invoiceView {
	t.Helper()
	var out []invoiceView
	s.ok(t, a, "billing.clients.invoices", map[string]any{"clients_id": client, "order": "id", "limit": 1000}, &out)
	return out
}

// wantLine checks one invoice line to the minor unit.
func wantLine(t *testing.T, inv invoiceView, i int, kind string, qty, unit, amount int64, rate string, from, to time.Time) {
	t.Helper()
	if i >= len(inv.Lines) {
		t.Fatalf("invoice %d has %d lines, want line %d", inv.ID, len(inv.Lines), i+1)
	}
	l := inv.Lines[i]
	if l.Position != i+1 || l.Kind != kind || l.Quantity != qty || l.UnitAmount != unit || l.Amount != amount || l.TaxRate != rate ||
		l.PeriodStart == nil || !l.PeriodStart.Equal(from) || l.PeriodEnd == nil || !l.PeriodEnd.Equal(to) {
		b, _ := json.Marshal(l)
		t.Errorf("invoice %d line %d: %s\nwant kind %s qty %d unit %d amount %d rate %s period %s – %s",
			inv.ID, i+1, b, kind, qty, unit, amount, rate, from, to)
	}
}

// wantTotals checks an invoice's totals: the sum of its lines, the tax
// computed by the test from the exact (unrounded) line amounts, and the total.
func wantTotals(t *testing.T, inv invoiceView, exactNet *big.Rat, ratePercent int64) {
	t.Helper()
	var sum int64
	for _, l := range inv.Lines {
		sum += l.Amount
	}
	tax := halfEven(mul(1, exactNet, frac(ratePercent, 100)))
	if inv.Subtotal != sum || inv.Tax != tax || inv.Total != sum+tax {
		t.Errorf("invoice %d: subtotal %d tax %d total %d, want %d, %d, %d", inv.ID, inv.Subtotal, inv.Tax, inv.Total, sum, tax, sum+tax)
	}
}

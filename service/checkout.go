package service

import (
	"context"
	"time"
)

// Checkout statuses.
const (
	CheckoutOpen      = "open"
	CheckoutConfirmed = "confirmed"
)

// Checkout is a quote for a client (seed 002's checkout): lines of prices —
// recurring ones start a subscription to their plan, one-off ones are
// charged once — and a voucher, priced as the invoice confirming it makes:
// the first period of each subscription, the discount, tax from the
// unrounded amounts. Confirming it starts the subscriptions and issues and
// finalizes that invoice, at the same total (or refuses: quote_changed).
type Checkout struct {
	ID            int64          `json:"id"`
	ClientsID     int64          `json:"clients_id"`
	Status        string         `json:"status" enum:"open,confirmed"`
	Currency      string         `json:"currency"`
	Voucher       string         `json:"voucher" doc:"the voucher code, if any"`
	VouchersID    *int64         `json:"vouchers_id"`
	Items         []CheckoutItem `json:"items"`
	Lines         []*InvoiceLine `json:"lines" doc:"the quote: the lines of the invoice it makes"`
	Subtotal      int64          `json:"subtotal"`
	Tax           int64          `json:"tax"`
	Total         int64          `json:"total"`
	InvoicesID    *int64         `json:"invoices_id" doc:"the invoice issued when confirmed"`
	Subscriptions []int64        `json:"subscriptions" doc:"the subscriptions started when confirmed"`
	ConfirmedAt   *time.Time     `json:"confirmed_at"`
	LiveMode      bool           `json:"live_mode"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

// CheckoutItem is one line of a checkout as asked for.
type CheckoutItem struct {
	PricesID int64  `json:"prices_id"`
	PlansID  *int64 `json:"plans_id"`
	Quantity int64  `json:"quantity"`
}

// CheckoutLineInput is one line of billing.checkout.create.
type CheckoutLineInput struct {
	Price    int64    `json:"price" required:"true" doc:"a price in the client's currency"`
	Plan     *PlanRef `json:"plan" doc:"for a recurring price: the plan (id or code name) to subscribe to; it must sell the price"`
	Quantity *int64   `json:"quantity" doc:"default 1; seats of a per-seat plan, units of a one-off price"`
}

// CheckoutCreate are the params of billing.checkout.create.
type CheckoutCreate struct {
	ClientsID int64               `json:"clients_id" required:"true"`
	Lines     []CheckoutLineInput `json:"lines" required:"true" doc:"1 to 20 lines"`
	Voucher   string              `json:"voucher" doc:"a voucher code to apply"`
}

// Validate checks the lines.
func (p *CheckoutCreate) Validate() error {
	v := Validation{}
	v.Check(len(p.Lines) >= 1 && len(p.Lines) <= 20, "lines", "must have 1 to 20 lines")
	for i := range p.Lines {
		if p.Lines[i].Quantity == nil {
			one := int64(1)
			p.Lines[i].Quantity = &one
		}
		q := *p.Lines[i].Quantity
		v.Check(q >= 1 && q <= maxSeats, "lines["+itoa(int64(i))+"].quantity", "must be 1 to 1000000")
	}
	v.Check(p.Voucher == "" || voucherCodeRe.MatchString(p.Voucher), "voucher", "must be a voucher code")
	return v.Err()
}

func (s *Service) registerCheckout() {
	r := s.registry
	Register(r, Decl[CheckoutCreate, *Checkout]{
		Name: "billing.checkout.create", Summary: "Quote a client lines of prices (and a voucher): subtotal, tax and total of the invoice confirming it makes.",
		HTTP: Route{Verb: "POST", Path: "/billing/checkout", Created: true}, Idempotent: true,
		Raises: []Code{CodeUnprocessable}, Do: s.createCheckout,
	})
	Register(r, Decl[IDParams, *Checkout]{
		Name: "billing.checkout.get", Summary: "Get a checkout.", HTTP: Route{Verb: "GET", Path: "/billing/checkout/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Checkout, error) { return s.store.FindCheckout(ctx, p.ID) },
	})
	Register(r, Decl[IDParams, *Checkout]{
		Name: "billing.checkout.confirm", Summary: "Confirm a checkout: start its subscriptions, apply its voucher, issue and finalize its invoice.",
		HTTP: Route{Verb: "POST", Path: "/billing/checkout/:id/confirm"}, Idempotent: true,
		Raises: []Code{CodeUnprocessable}, Do: s.confirmCheckout,
	})
}

func (s *Service) createCheckout(ctx context.Context, p *CheckoutCreate) (*Checkout, error) {
	now, err := s.billingNow(ctx)
	if err != nil {
		return nil, err
	}
	var co *Checkout
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		client, err := s.store.FindClient(ctx, p.ClientsID)
		if err != nil {
			return err
		}
		if client.Status != ClientActive {
			return Unprocessable("client_not_active", "client %d is %s", client.ID, client.Status)
		}
		co = &Checkout{ClientsID: client.ID, Status: CheckoutOpen, Currency: client.Currency, Voucher: p.Voucher,
			Subscriptions: []int64{}, LiveMode: client.LiveMode}
		for i, l := range p.Lines {
			item := CheckoutItem{PricesID: l.Price, Quantity: *l.Quantity}
			if l.Plan != nil {
				plan, err := s.resolvePlan(ctx, "lines["+itoa(int64(i))+"].plan", *l.Plan)
				if err != nil {
					return err
				}
				item.PlansID = &plan.ID
			}
			co.Items = append(co.Items, item)
		}
		var extra *VoucherRedemption
		if p.Voucher != "" {
			v, err := s.resolveVoucher(ctx, "voucher", p.Voucher, client)
			if err != nil {
				return err
			}
			if err := usableVoucher(v, client, now); err != nil {
				return err
			}
			co.VouchersID = &v.ID
			extra = &VoucherRedemption{VouchersID: v.ID, ClientsID: client.ID, CyclesLeft: v.Cycles, Voucher: v}
		}
		inv, _, err := s.checkoutInvoice(ctx, co, client, extra, now, nil)
		if err != nil {
			return err
		}
		co.Lines, co.Subtotal, co.Tax, co.Total = inv.Lines, inv.Subtotal, inv.Tax, inv.Total
		if err := s.store.CreateCheckout(ctx, co); err != nil {
			return err
		}
		return s.audit(ctx, "checkout", co.ID, "create", client.ResellersID, map[string]any{"object": co})
	})
	return co, err
}

package service

import (
	"context"
	"slices"
	"time"
)

// Refund is money paid back to a client against one of its payments (seed
// 002): a ledger debit, never more than the payment has left to refund.
// Cancellations with refund_type full or prorate make them too.
type Refund struct {
	ID                int64     `json:"id"`
	PaymentsID        int64     `json:"payments_id"`
	ClientsID         int64     `json:"clients_id"`
	Amount            int64     `json:"amount" doc:"minor units"`
	Currency          string    `json:"currency"`
	Reason            string    `json:"reason"`
	Status            string    `json:"status" enum:"completed"`
	ProviderReference string    `json:"provider_reference"`
	TransactionsID    *int64    `json:"transactions_id" doc:"the ledger debit"`
	SubscriptionsID   *int64    `json:"subscriptions_id" doc:"the subscription whose cancellation refunded"`
	CreditInvoicesID  *int64    `json:"credit_invoices_id" doc:"the refund invoice (credit note) of that cancellation"`
	UsersID           *int64    `json:"users_id" doc:"who refunded (the billing admin)"`
	LiveMode          bool      `json:"live_mode"`
	CreatedAt         time.Time `json:"created_at"`
}

// RefundFilter are the typed filters of billing.refunds.search.
type RefundFilter struct {
	ID              IDs `json:"id" filter:"id"`
	ClientsID       IDs `json:"clients_id" filter:"clients_id"`
	PaymentsID      IDs `json:"payments_id" filter:"payments_id"`
	SubscriptionsID IDs `json:"subscriptions_id" filter:"subscriptions_id"`
}

// RefundSearch are the params of billing.refunds.search.
type RefundSearch struct {
	ListParams
	RefundFilter
}

// ClientRefunds are the params of billing.clients.refunds.
type ClientRefunds struct {
	ListParams
	ClientsID  int64 `json:"clients_id" required:"true"`
	PaymentsID IDs   `json:"payments_id" filter:"payments_id"`
}

var refundList = ListSpec{Sort: []string{"id", "created_at", "amount"}, Search: []string{"reason"}}

func (s *Service) registerRefunds() {
	r := s.registry
	Register(r, Decl[RefundSearch, *Page[*Refund]]{
		Name: "billing.refunds.search", Summary: "List refunds.", HTTP: Route{Verb: "GET", Path: "/billing/refunds"},
		Do: func(ctx context.Context, p *RefundSearch) (*Page[*Refund], error) {
			q, err := BuildQuery(refundList, p.FilterParams, &p.ListParams, &p.RefundFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchRefunds(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[IDParams, *Refund]{
		Name: "billing.refunds.get", Summary: "Get a refund.", HTTP: Route{Verb: "GET", Path: "/billing/refunds/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Refund, error) { return s.store.FindRefund(ctx, p.ID) },
	})
	Register(r, Decl[ClientRefunds, *Page[*Refund]]{
		Name: "billing.clients.refunds", Summary: "List a client's refunds.",
		HTTP: Route{Verb: "GET", Path: "/billing/clients/:clients_id/refunds"},
		Do: func(ctx context.Context, p *ClientRefunds) (*Page[*Refund], error) {
			q, err := BuildQuery(refundList, p.FilterParams, &p.ListParams, p)
			if err != nil {
				return nil, err
			}
			if _, err := s.store.FindClient(ctx, p.ClientsID); err != nil {
				return nil, err
			}
			q.Filters = append(q.Filters, Filter{Field: "clients_id", Values: []any{p.ClientsID}})
			rows, err := s.store.SearchRefunds(ctx, q)
			return NewPage(rows, q), err
		},
	})
}

// periodInvoices locks and returns the invoices that billed the
// subscription's current period (its cycle invoice and prorations), the ones
// a cancellation credits (the client is locked already: the lock order of
// every money path).
func (s *Service) periodInvoices(ctx context.Context, sub *Subscription) ([]*Invoice, error) {
	rows, err := s.store.SearchInvoices(ctx, Query{Filters: []Filter{
		{Field: "subscriptions_id", Values: []any{sub.ID}},
		{Field: "kind", Values: []any{InvoiceKindCycle, InvoiceKindProration}},
		{Field: "status", Values: []any{InvoiceFinalized, InvoicePaid}},
	}, Order: []Order{{Field: "id"}}, Limit: MaxLimit})
	if err != nil {
		return nil, err
	}
	var out []*Invoice
	for _, inv := range rows {
		if inv.PeriodStart == nil || inv.PeriodStart.Before(sub.CurrentPeriodStart) || inv.Total <= 0 {
			continue
		}
		locked, err := s.store.LockInvoice(ctx, inv.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, locked)
	}
	return out, nil
}

// settleCredit gives a cancellation's credit note (credit, a negative total)
// back to the client: first it pays what the period's invoices still owe (a
// payment from the balance, which the credit just raised), then it refunds
// the money paid for them (newest payment first, each up to what it paid of
// them and has left to refund); what remains stays on the balance. The
// ledger: the credit note's credit, then refund debits.
func (s *Service) settleCredit(ctx context.Context, c *subChange, invs []*Invoice, credit *Invoice, at time.Time) error {
	left := -credit.Total
	if left <= 0 || len(invs) == 0 {
		return nil
	}
	var open []int64
	var owed int64
	ids := make([]int64, len(invs))
	for i, inv := range invs {
		ids[i] = inv.ID
		if inv.Status == InvoiceFinalized && inv.Total > inv.AmountPaid {
			open = append(open, inv.ID)
			owed += inv.Total - inv.AmountPaid
		}
	}
	if owed > 0 {
		client, err := s.store.LockClient(ctx, c.client.ID)
		if err != nil {
			return err
		}
		outstanding, err := s.store.ClientOutstanding(ctx, client.ID)
		if err != nil {
			return err
		}
		amount := min(left, owed, client.Balance+outstanding)
		if amount > 0 {
			prov, err := paymentProvider("provider", ProviderBalance)
			if err != nil {
				return err
			}
			pay, err := s.recordPayment(ctx, &paymentOrder{clientID: client.ID, invoices: open, amount: &amount, provider: prov,
				notes: "credit of refund invoice " + ptrString(credit.Number), at: at})
			if err != nil {
				return err
			}
			left -= pay.Amount
		}
	}
	pays, err := s.store.PaymentsForInvoices(ctx, ids)
	if err != nil {
		return err
	}
	slices.SortFunc(pays, func(a, b *Payment) int { return int(b.ID - a.ID) })
	for _, pay := range pays {
		if left <= 0 {
			break
		}
		if pay.Provider == ProviderBalance {
			continue // prepaid money: the credit note gave it back already
		}
		var paid int64
		for _, a := range pay.Invoices {
			if slices.Contains(ids, a.InvoicesID) {
				paid += a.Amount
			}
		}
		amount := min(left, paid, pay.Amount-pay.Refunded)
		if amount <= 0 {
			continue
		}
		subID, creditID := c.sub.ID, credit.ID
		if _, err := s.refundPayment(ctx, &refundOrder{paymentID: pay.ID, amount: amount, subscriptionID: &subID, creditID: &creditID,
			reason: "cancellation of subscription " + itoa(c.sub.ID) + " (" + c.sub.CancelRefundType + " refund)"}); err != nil {
			return err
		}
		left -= amount
	}
	return nil
}

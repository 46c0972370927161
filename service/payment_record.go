package service

import (
	"context"
	"slices"
	"time"
)

// paymentOrder is a payment to record.
type paymentOrder struct {
	clientID  int64
	invoices  []int64 // in allocation order
	amount    *int64  // nil: what the invoices still owe
	currency  string
	provider  PaymentProvider
	method    string
	reference string
	notes     string
	at        time.Time
}

// recordPayment records o inside the transaction of ctx. Locks are taken in
// the order every money path follows — the client, then its invoices (by
// id), then payments — so concurrent payments, finalizations and refunds
// never deadlock; the client's lock also makes concurrent payments of one
// invoice accumulate instead of overwriting each other. Errors: see
// createPayment.
func (s *Service) recordPayment(ctx context.Context, o *paymentOrder) (*Payment, error) {
	client, err := s.store.FindClient(ctx, o.clientID)
	if err != nil {
		return nil, err
	}
	if client, err = s.store.LockClient(ctx, client.ID); err != nil {
		return nil, err
	}
	if o.currency != "" && o.currency != client.Currency {
		return nil, InvalidField("currency", "payments are in the client's currency "+client.Currency)
	}
	invs, due, err := s.lockPayable(ctx, client, o.invoices)
	if err != nil {
		return nil, err
	}
	amount := due
	if o.amount != nil {
		amount = *o.amount
	}
	if amount <= 0 {
		return nil, InvalidField("amount", "must be positive: the invoices owe nothing")
	}
	if err := s.referenceFree(ctx, client, o.reference); err != nil {
		return nil, err // before the provider takes any money
	}
	outstanding, err := s.store.ClientOutstanding(ctx, client.ID)
	if err != nil {
		return nil, err
	}
	mv, err := o.provider.Collect(ctx, &Collection{Client: client, Amount: amount, Currency: client.Currency,
		Method: o.method, Due: due, Available: client.Balance + outstanding})
	if err != nil {
		return nil, err
	}
	pay := &Payment{ClientsID: client.ID, ResellersID: client.ResellersID, Amount: amount, Currency: client.Currency,
		Provider: o.provider.Name(), Method: o.method, ExternalReference: o.reference, ProviderReference: mv.Reference,
		Status: PaymentCompleted, Notes: o.notes, ReceivedAt: o.at, LiveMode: client.LiveMode}
	if pr := PrincipalFrom(ctx); pr != nil && pr.UserID != 0 {
		uid := pr.UserID
		pay.UsersID = &uid
	}
	left := amount
	for _, inv := range invs {
		a := min(left, inv.Total-inv.AmountPaid)
		if a > 0 {
			pay.Invoices = append(pay.Invoices, PaymentAllocation{InvoicesID: inv.ID, Amount: a})
			left -= a
		}
	}
	if mv.MovesMoney {
		tx, err := s.PostTransaction(ctx, &TransactionCreate{ClientsID: client.ID, Amount: amount, Type: TxPayment,
			Currency: client.Currency, Notes: paymentNotes(pay)}, false)
		if err != nil {
			return nil, err
		}
		pay.TransactionsID = &tx.ID
	}
	if err := s.store.CreatePayment(ctx, pay); err != nil {
		if CodeOf(err) == CodeConflict && pay.ExternalReference != "" {
			return nil, referenceTaken(pay.ExternalReference)
		}
		return nil, err
	}
	for _, a := range pay.Invoices {
		inv := invs[slices.IndexFunc(invs, func(v *Invoice) bool { return v.ID == a.InvoicesID })]
		if err := s.applyPayment(ctx, inv, client, a.Amount, o.at); err != nil {
			return nil, err
		}
	}
	return pay, s.audit(ctx, "payment", pay.ID, "create", client.ResellersID, map[string]any{"object": pay})
}

// referenceFree refuses a reference already recorded for a payment of the
// client's reseller in its mode (the unique index decides races; this
// answers before a provider is asked to take money).
func (s *Service) referenceFree(ctx context.Context, client *Client, ref string) error {
	if ref == "" {
		return nil
	}
	rows, err := s.store.SearchPayments(ctx, Query{Filters: []Filter{{Field: "external_reference", Values: []any{ref}}}, Limit: 100})
	if err != nil {
		return err
	}
	for _, p := range rows {
		if sameReseller(p.ResellersID, client.ResellersID) {
			return referenceTaken(ref)
		}
	}
	return nil
}

func referenceTaken(ref string) *Error {
	return &Error{Code: CodeConflict, Message: "a payment with external_reference " + ref + " is already recorded for this reseller and mode",
		Fields: map[string]string{"external_reference": "already recorded"}}
}

// paymentNotes describes a payment on its ledger entry.
func paymentNotes(p *Payment) string {
	n := "payment (" + p.Provider
	if p.Method != "" {
		n += ", " + p.Method
	}
	n += ")"
	if p.ExternalReference != "" {
		n += " " + p.ExternalReference
	}
	return n
}

// lockPayable locks the invoices ids of client (in id order, the lock
// order) and returns them in the order given with what they still owe.
func (s *Service) lockPayable(ctx context.Context, client *Client, ids []int64) ([]*Invoice, int64, error) {
	byID := map[int64]*Invoice{}
	for _, id := range slices.Sorted(slices.Values(ids)) {
		inv, err := s.store.LockInvoice(ctx, id)
		if err != nil {
			return nil, 0, err
		}
		switch {
		case inv.ClientsID != client.ID:
			return nil, 0, InvalidField("invoices", "invoice "+itoa(id)+" is not an invoice of client "+itoa(client.ID))
		case inv.Currency != client.Currency:
			return nil, 0, InvalidField("invoices", "invoice "+itoa(id)+" is in "+inv.Currency+", not "+client.Currency)
		case inv.Status != InvoiceFinalized:
			return nil, 0, Unprocessable("invalid_state", "invoice %d is %s: only finalized invoices can be paid", id, inv.Status)
		case inv.Total <= 0:
			return nil, 0, InvalidField("invoices", "invoice "+itoa(id)+" is a credit: there is nothing to pay")
		}
		byID[id] = inv
	}
	out := make([]*Invoice, len(ids))
	var due int64
	for i, id := range ids {
		out[i] = byID[id]
		due += out[i].Total - out[i].AmountPaid
	}
	return out, due, nil
}

// applyPayment adds amount to what invoice inv has been paid; covered, it
// becomes paid.
func (s *Service) applyPayment(ctx context.Context, inv *Invoice, client *Client, amount int64, at time.Time) error {
	before := inv.AmountPaid
	inv.AmountPaid += amount
	if err := s.store.UpdateInvoice(ctx, inv, []string{"amount_paid"}); err != nil {
		return err
	}
	if err := s.audit(ctx, "invoice", inv.ID, "update", client.ResellersID, map[string]any{
		"amount_paid": Change{From: before, To: inv.AmountPaid}}); err != nil {
		return err
	}
	if inv.AmountPaid < inv.Total {
		return nil
	}
	_, err := s.MarkInvoicePaid(ctx, inv.ID, at)
	return err
}

// refundOrder is a refund to make.
type refundOrder struct {
	paymentID int64
	amount    int64
	currency  string
	reason    string
	// set when a cancellation refunds
	subscriptionID *int64
	creditID       *int64
}

// refundPayment pays o.amount of a payment back, in one transaction holding
// the client's and the payment's row locks, so concurrent refunds can never
// together refund more than the payment. Errors: not_found (payment),
// invalid_params (currency), unprocessable (over_refund: more than the
// payment has left to refund; not_refundable: the provider cannot).
func (s *Service) refundPayment(ctx context.Context, o *refundOrder) (*Refund, error) {
	now, err := s.billingNow(ctx)
	if err != nil {
		return nil, err
	}
	var out *Refund
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		pay, err := s.store.FindPayment(ctx, o.paymentID)
		if err != nil {
			return err
		}
		client, err := s.store.LockClient(ctx, pay.ClientsID)
		if err != nil {
			return err
		}
		if pay, err = s.store.LockPayment(ctx, pay.ID); err != nil {
			return err
		}
		if o.currency != "" && o.currency != pay.Currency {
			return InvalidField("currency", "payment "+itoa(pay.ID)+" is in "+pay.Currency)
		}
		if left := pay.Amount - pay.Refunded; o.amount > left {
			return Unprocessable("over_refund", "cannot refund %d: payment %d has %d left to refund (paid %d, refunded %d) in minor units of %s",
				o.amount, pay.ID, left, pay.Amount, pay.Refunded, pay.Currency)
		}
		prov, err := paymentProvider("provider", pay.Provider)
		if err != nil {
			return Internal(err)
		}
		mv, err := prov.Refund(ctx, pay, o.amount)
		if err != nil {
			return err
		}
		ref := &Refund{PaymentsID: pay.ID, ClientsID: client.ID, Amount: o.amount, Currency: pay.Currency, Reason: o.reason,
			Status: PaymentCompleted, ProviderReference: mv.Reference, SubscriptionsID: o.subscriptionID,
			CreditInvoicesID: o.creditID, LiveMode: client.LiveMode, CreatedAt: now}
		if pr := PrincipalFrom(ctx); pr != nil && pr.UserID != 0 {
			uid := pr.UserID
			ref.UsersID = &uid
		}
		if mv.MovesMoney {
			tx, err := s.PostTransaction(ctx, &TransactionCreate{ClientsID: client.ID, Amount: -o.amount, Type: TxRefund,
				Currency: pay.Currency, Notes: "refund of payment " + itoa(pay.ID)}, false)
			if err != nil {
				return err
			}
			ref.TransactionsID = &tx.ID
		}
		before := pay.Refunded
		if err := s.store.SetPaymentRefunded(ctx, pay.ID, before+o.amount); err != nil {
			return err
		}
		if err := s.store.CreateRefund(ctx, ref); err != nil {
			return err
		}
		if err := s.audit(ctx, "payment", pay.ID, "update", client.ResellersID, map[string]any{
			"refunded": Change{From: before, To: before + o.amount}}); err != nil {
			return err
		}
		out = ref
		return s.audit(ctx, "refund", ref.ID, "create", client.ResellersID, map[string]any{"object": ref})
	})
	return out, err
}

package service

import (
	"context"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// InvoiceNetDays is how long a client billed by invoice (billing_type
// invoice) has to pay; a card client's invoice is due when issued.
const InvoiceNetDays = 14

// InvoiceLineInput is one line of billing.invoices.create.
type InvoiceLineInput struct {
	Description  string `json:"description"`
	Quantity     *int64 `json:"quantity" doc:"default 1"`
	UnitAmount   int64  `json:"unit_amount" doc:"minor units; negative for a discount"`
	TaxType      string `json:"tax_type" enum:"standard,digital" doc:"default standard"`
	IncludingTax bool   `json:"including_tax"`
}

// InvoiceCreate are the params of billing.invoices.create: a draft with
// one-off lines, in the client's currency.
type InvoiceCreate struct {
	ClientsID int64              `json:"clients_id" required:"true"`
	Lines     []InvoiceLineInput `json:"lines" required:"true" doc:"1 to 100 lines"`
	Memo      string             `json:"memo"`
}

// Validate checks the lines.
func (p *InvoiceCreate) Validate() error {
	v := Validation{}
	v.Check(len(p.Lines) >= 1 && len(p.Lines) <= 100, "lines", "must have 1 to 100 lines")
	for i := range p.Lines {
		l := &p.Lines[i]
		at := "lines[" + strconv.Itoa(i) + "]"
		if l.Quantity == nil {
			one := int64(1)
			l.Quantity = &one
		}
		if l.TaxType == "" {
			l.TaxType = TaxStandard
		}
		v.Check(strings.TrimSpace(l.Description) != "" && len(l.Description) <= 500, at+".description", "must be 1 to 500 characters")
		v.Check(*l.Quantity >= 1 && *l.Quantity <= maxSeats, at+".quantity", "must be 1 to 1000000")
		v.Check(l.UnitAmount >= -maxUnitAmount && l.UnitAmount <= maxUnitAmount, at+".unit_amount", "must be within ±10^12 minor units")
		v.Check(l.TaxType == TaxStandard || l.TaxType == TaxDigital, at+".tax_type", "must be standard or digital")
	}
	v.Check(len(p.Memo) <= 2000, "memo", "must be at most 2000 characters")
	return v.Err()
}

func (s *Service) registerInvoiceChanges() {
	r := s.registry
	Register(r, Decl[InvoiceCreate, *Invoice]{
		Name: "billing.invoices.create", Summary: "Create a draft invoice with one-off lines.",
		HTTP: Route{Verb: "POST", Path: "/billing/invoices", Created: true}, Idempotent: true, Do: s.createInvoice,
	})
	Register(r, Decl[IDParams, *Invoice]{
		Name: "billing.invoices.finalize", Summary: "Finalize a draft: number it and debit the client's ledger.",
		HTTP: Route{Verb: "POST", Path: "/billing/invoices/:id/finalize"},
		Do: func(ctx context.Context, p *IDParams) (*Invoice, error) {
			return s.invoiceOp(ctx, p.ID, func(ctx context.Context, inv *Invoice, client *Client, now time.Time) error {
				return s.finalizeInvoice(ctx, inv, client, now)
			})
		},
	})
	Register(r, Decl[IDParams, *Invoice]{
		Name: "billing.invoices.void", Summary: "Void a finalized, unpaid invoice: the ledger debit is reversed.",
		HTTP: Route{Verb: "POST", Path: "/billing/invoices/:id/void"},
		Do: func(ctx context.Context, p *IDParams) (*Invoice, error) {
			return s.invoiceOp(ctx, p.ID, s.voidInvoice)
		},
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "billing.invoices.delete", Summary: "Delete a draft invoice (finalized invoices are kept; void them).",
		HTTP: Route{Verb: "DELETE", Path: "/billing/invoices/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Deleted, error) {
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				inv, err := s.store.LockInvoice(ctx, p.ID)
				if err != nil {
					return err
				}
				if inv.Status != InvoiceDraft {
					return Unprocessable("invalid_state", "invoice %d is %s: only drafts can be deleted", inv.ID, inv.Status)
				}
				client, err := s.store.FindClient(ctx, inv.ClientsID)
				if err != nil {
					return err
				}
				if err := s.store.DeleteInvoice(ctx, inv.ID); err != nil {
					return err
				}
				return s.audit(ctx, "invoice", inv.ID, "delete", client.ResellersID, map[string]any{"object": inv})
			})
			if err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}

func (s *Service) createInvoice(ctx context.Context, p *InvoiceCreate) (*Invoice, error) {
	now, err := s.billingNow(ctx)
	if err != nil {
		return nil, err
	}
	var inv *Invoice
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		client, err := s.store.FindClient(ctx, p.ClientsID)
		if err != nil {
			return err
		}
		lines := make([]draftLine, len(p.Lines))
		for i, l := range p.Lines {
			lines[i] = draftLine{
				line: InvoiceLine{Kind: LineManual, Description: strings.TrimSpace(l.Description), Quantity: *l.Quantity,
					UnitAmount: l.UnitAmount, TaxRate: clientTaxRate(client, l.TaxType)},
				exact: big.NewRat(l.UnitAmount*(*l.Quantity), 1), inclusive: l.IncludingTax,
			}
		}
		inv = &Invoice{ClientsID: client.ID, Kind: InvoiceKindManual, Status: InvoiceDraft, Currency: client.Currency,
			IssuedAt: now, DueAt: dueDate(client, now), Memo: p.Memo, LiveMode: client.LiveMode}
		if err := priceInvoice(inv, lines); err != nil {
			return err
		}
		if _, err := s.store.CreateInvoice(ctx, inv); err != nil {
			return err
		}
		return s.audit(ctx, "invoice", inv.ID, "create", client.ResellersID, map[string]any{"object": inv})
	})
	return inv, err
}

// invoiceOp runs fn on invoice id, locked, with its client, at the billing
// clock of the caller's mode, in one transaction. The client's row is locked
// first: every path that moves money locks the client, then its invoices,
// then payments, so they never deadlock.
func (s *Service) invoiceOp(ctx context.Context, id int64, fn func(ctx context.Context, inv *Invoice, client *Client, now time.Time) error) (*Invoice, error) {
	now, err := s.billingNow(ctx)
	if err != nil {
		return nil, err
	}
	var out *Invoice
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		found, err := s.store.FindInvoice(ctx, id)
		if err != nil {
			return err
		}
		client, err := s.store.LockClient(ctx, found.ClientsID)
		if err != nil {
			return err
		}
		inv, err := s.store.LockInvoice(ctx, id)
		if err != nil {
			return err
		}
		out = inv
		return fn(ctx, inv, client, now)
	})
	return out, err
}

// issueInvoice prices inv from lines, stores it and finalizes it at `at`, for
// the subscription of c. A cycle invoice for a period already billed is not
// made again: it returns nil, nil. The client's row is locked first (the
// invoice's foreign key would otherwise take a share lock before the
// ledger's update lock, and two such transactions deadlock).
func (s *Service) issueInvoice(ctx context.Context, c *subChange, inv *Invoice, lines []draftLine, at time.Time) (*Invoice, error) {
	if _, err := s.store.LockClient(ctx, c.client.ID); err != nil {
		return nil, err
	}
	inv.ClientsID, inv.Currency, inv.Status = c.client.ID, c.sub.Currency, InvoiceDraft
	inv.IssuedAt, inv.DueAt, inv.LiveMode = at, dueDate(c.client, at), c.client.LiveMode
	if err := priceInvoice(inv, lines); err != nil {
		return nil, err
	}
	created, err := s.store.CreateInvoice(ctx, inv)
	if err != nil || !created {
		return nil, err
	}
	if err := s.audit(ctx, "invoice", inv.ID, "create", c.client.ResellersID, map[string]any{"object": inv}); err != nil {
		return nil, err
	}
	if err := s.finalizeInvoice(ctx, inv, c.client, at); err != nil {
		return nil, err
	}
	c.made = append(c.made, inv.ID)
	return inv, nil
}

// finalizeInvoice moves a draft to finalized at `at`: it takes the next
// number of the client's reseller sequence and posts the total to the
// client's ledger (a charge; a credit — an adjustment — for a negative
// total, such as a cancellation's refund invoice: the money itself goes
// back as refunds of payments, issue 7), in the transaction of ctx.
// Errors: unprocessable (not a draft), and those of PostTransaction.
func (s *Service) finalizeInvoice(ctx context.Context, inv *Invoice, client *Client, at time.Time) error {
	if err := inv.transition(InvoiceFinalized); err != nil {
		return err
	}
	n, err := s.store.NextInvoiceNumber(ctx, client.ResellersID, client.LiveMode)
	if err != nil {
		return err
	}
	inv.Number, inv.ResellersID, inv.FinalizedAt, inv.DueAt = &n, client.ResellersID, &at, dueDate(client, at)
	if inv.Total != 0 {
		typ := TxCharge
		if inv.Total < 0 {
			typ = TxAdjustment
		}
		tx, err := s.PostTransaction(ctx, &TransactionCreate{ClientsID: client.ID, Amount: -inv.Total, Type: typ,
			Currency: inv.Currency, Notes: "invoice " + strconv.FormatInt(n, 10)}, false)
		if err != nil {
			return err
		}
		inv.TransactionsID = &tx.ID
	}
	if err := s.store.UpdateInvoice(ctx, inv, []string{"status", "number", "resellers_id", "finalized_at", "due_at", "transactions_id"}); err != nil {
		return err
	}
	return s.audit(ctx, "invoice", inv.ID, "update", client.ResellersID, map[string]any{
		"status": Change{From: InvoiceDraft, To: InvoiceFinalized}, "number": n})
}

// voidInvoice voids a finalized, unpaid invoice and reverses its ledger entry.
func (s *Service) voidInvoice(ctx context.Context, inv *Invoice, client *Client, now time.Time) error {
	if err := inv.transition(InvoiceVoid); err != nil {
		return err
	}
	inv.VoidedAt = &now
	if inv.TransactionsID != nil {
		tx, err := s.PostTransaction(ctx, &TransactionCreate{ClientsID: client.ID, Amount: inv.Total, Type: TxAdjustment,
			Currency: inv.Currency, Notes: "void of invoice " + ptrString(inv.Number)}, false)
		if err != nil {
			return err
		}
		inv.VoidTransactionsID = &tx.ID
	}
	if err := s.store.UpdateInvoice(ctx, inv, []string{"status", "voided_at", "void_transactions_id"}); err != nil {
		return err
	}
	return s.audit(ctx, "invoice", inv.ID, "update", client.ResellersID, map[string]any{
		"status": Change{From: InvoiceFinalized, To: InvoiceVoid}})
}

// MarkInvoicePaid records that finalized invoice id was paid at `at`
// (finalized → paid), joining the transaction of ctx when there is one, for
// the payments of issue 7: the caller posts the payment to the ledger itself
// (the invoice's debit was posted when it was finalized). ctx must carry the
// Principal the invoice is visible to. Errors: not_found, unprocessable
// (reason invalid_state: a draft, void or already paid invoice),
// unavailable, internal.
func (s *Service) MarkInvoicePaid(ctx context.Context, id int64, at time.Time) (*Invoice, error) {
	return s.invoiceOp(ctx, id, func(ctx context.Context, inv *Invoice, client *Client, _ time.Time) error {
		if err := inv.transition(InvoicePaid); err != nil {
			return err
		}
		at := at.UTC()
		inv.PaidAt = &at
		if err := s.store.UpdateInvoice(ctx, inv, []string{"status", "paid_at"}); err != nil {
			return err
		}
		return s.audit(ctx, "invoice", inv.ID, "update", client.ResellersID, map[string]any{
			"status": Change{From: InvoiceFinalized, To: InvoicePaid}})
	})
}

// dueDate is when an invoice issued at `at` is due for client.
func dueDate(c *Client, at time.Time) time.Time {
	if c.BillingType == BillingByCard {
		return at
	}
	return at.AddDate(0, 0, InvoiceNetDays)
}

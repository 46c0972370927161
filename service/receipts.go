package service

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/billgate/billgate/pkg/money"
	"github.com/billgate/billgate/pkg/pdfdoc"
)

// ReceiptPDF is the receipt of a payment as a PDF document (a receipt's id is
// its payment's).
type ReceiptPDF = PDFDocument

func (s *Service) registerReceipts() {
	Register(s.registry, Decl[IDParams, *ReceiptPDF]{
		Name: "billing.receipts.pdf", Summary: "The receipt of a payment as a PDF (REST: the document; JSON-RPC: base64 in pdf).",
		HTTP: Route{Verb: "GET", Path: "/billing/receipts/:id/pdf", Raw: "pdf"}, Do: s.receiptPDF,
	})
}

// receiptPDF renders the receipt of payment id: when and how it was paid,
// by whom, one row per invoice it paid (number, total, amount applied), and
// the amount, what was refunded and what remains. The same payment always
// renders to the same bytes. Errors: not_found, internal.
func (s *Service) receiptPDF(ctx context.Context, p *IDParams) (*ReceiptPDF, error) {
	pay, err := s.store.FindPayment(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	client, cur, err := s.documentParties(ctx, pay.ClientsID, pay.Currency)
	if err != nil {
		return nil, err
	}
	invs := make([]*Invoice, 0, len(pay.Invoices))
	for _, a := range pay.Invoices {
		inv, err := s.store.FindInvoice(ctx, a.InvoicesID)
		if err != nil {
			return nil, err
		}
		invs = append(invs, inv)
	}
	doc := receiptDocument(pay, invs, client, cur.Exponent, s.clientLocation(client))
	b, err := pdfdoc.Render(doc)
	if err != nil {
		return nil, Internal(err)
	}
	return &ReceiptPDF{ID: pay.ID, Filename: "Receipt " + strconv.FormatInt(pay.ID, 10) + ".pdf", PDF: b}, nil
}

func receiptDocument(pay *Payment, invs []*Invoice, client *Client, exp int, loc *time.Location) *pdfdoc.Document {
	amount := func(v int64) string { return money.Format(v, exp) + " " + pay.Currency }
	by := pay.Provider
	if pay.Method != "" {
		by += " (" + pay.Method + ")"
	}
	fields := [][2]string{
		{"Received", pay.ReceivedAt.In(loc).Format("2006-01-02 15:04")},
		{"Client", fmt.Sprintf("%s (#%d)", client.Name, client.ID)},
		{"Paid by", by},
	}
	if client.Company != "" {
		fields = append(fields, [2]string{"Company", client.Company})
	}
	if pay.ExternalReference != "" {
		fields = append(fields, [2]string{"Reference", pay.ExternalReference})
	}
	doc := &pdfdoc.Document{
		Title: "Receipt " + strconv.FormatInt(pay.ID, 10), Author: "billgate", Created: pay.ReceivedAt, Fields: fields,
		Columns: []pdfdoc.Column{
			{Title: "Invoice", Width: 60, Align: "L"},
			{Title: "Issued", Width: 30, Align: "L"},
			{Title: "Invoice total", Width: 45, Align: "R"},
			{Title: "Paid", Width: 45, Align: "R"},
		},
	}
	var applied int64
	for i, inv := range invs {
		a := pay.Invoices[i].Amount
		applied += a
		doc.Rows = append(doc.Rows, []string{invoiceTitle(inv), inv.IssuedAt.In(loc).Format("2006-01-02"), amount(inv.Total), amount(a)})
	}
	doc.Totals = [][2]string{{"Amount paid", amount(pay.Amount)}}
	if rest := pay.Amount - applied; rest > 0 {
		doc.Totals = append(doc.Totals, [2]string{"Kept as credit", amount(rest)})
	}
	if pay.Refunded > 0 {
		doc.Totals = append(doc.Totals, [2]string{"Refunded", amount(pay.Refunded)}, [2]string{"Net paid", amount(pay.Amount - pay.Refunded)})
	}
	if pay.Notes != "" {
		doc.Notes = append(doc.Notes, pay.Notes)
	}
	return doc
}

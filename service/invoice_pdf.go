package service

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/billgate/billgate/pkg/money"
	"github.com/billgate/billgate/pkg/pdfdoc"
	"github.com/billgate/billgate/pkg/tz"
)

// invoicePDF renders invoice id as a PDF: its number and dates in the
// client's zone, the client, one table row per line (description, period,
// quantity, unit price, tax rate, amount) and the totals. The same invoice
// always renders to the same bytes. Errors: not_found, internal.
func (s *Service) invoicePDF(ctx context.Context, p *IDParams) (*InvoicePDF, error) {
	inv, err := s.store.FindInvoice(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	client, cur, err := s.documentParties(ctx, inv.ClientsID, inv.Currency)
	if err != nil {
		return nil, err
	}
	doc := invoiceDocument(inv, client, cur.Exponent, s.clientLocation(client))
	b, err := pdfdoc.Render(doc)
	if err != nil {
		return nil, Internal(err)
	}
	return &InvoicePDF{ID: inv.ID, Filename: invoiceTitle(inv) + ".pdf", PDF: b}, nil
}

// invoiceTitle names an invoice: "Invoice 42" once numbered, "Draft invoice 7" before.
func invoiceTitle(inv *Invoice) string {
	if inv.Number == nil {
		return "Draft invoice " + strconv.FormatInt(inv.ID, 10)
	}
	return "Invoice " + strconv.FormatInt(*inv.Number, 10)
}

func invoiceDocument(inv *Invoice, client *Client, exp int, loc *time.Location) *pdfdoc.Document {
	amount := func(v int64) string { return money.Format(v, exp) + " " + inv.Currency }
	day := func(t time.Time) string { return t.In(loc).Format("2006-01-02") }
	span := func(a, b *time.Time) string {
		if a == nil || b == nil {
			return ""
		}
		return day(*a) + " – " + day(*b)
	}
	title := invoiceTitle(inv)
	if inv.Kind == InvoiceKindRefund && inv.Number != nil {
		title = "Credit note " + strconv.FormatInt(*inv.Number, 10)
	}
	fields := [][2]string{
		{"Status", inv.Status},
		{"Issued", day(inv.IssuedAt)},
		{"Due", day(inv.DueAt)},
		{"Client", fmt.Sprintf("%s (#%d)", client.Name, client.ID)},
	}
	if client.Company != "" {
		fields = append(fields, [2]string{"Company", client.Company})
	}
	if client.TaxNumber != "" {
		fields = append(fields, [2]string{"Tax number", client.TaxNumber})
	}
	if inv.PeriodStart != nil {
		fields = append(fields, [2]string{"Period", span(inv.PeriodStart, inv.PeriodEnd)})
	}
	doc := &pdfdoc.Document{
		Title: title, Author: "billgate", Created: inv.IssuedAt, Fields: fields,
		Columns: []pdfdoc.Column{
			{Title: "Description", Width: 62, Align: "L"},
			{Title: "Period", Width: 38, Align: "L"},
			{Title: "Qty", Width: 12, Align: "R"},
			{Title: "Unit price", Width: 24, Align: "R"},
			{Title: "Tax", Width: 12, Align: "R"},
			{Title: "Amount", Width: 32, Align: "R"},
		},
		Totals: [][2]string{
			{"Subtotal", amount(inv.Subtotal)},
			{"Tax", amount(inv.Tax)},
			{"Total", amount(inv.Total)},
		},
	}
	for _, l := range inv.Lines {
		doc.Rows = append(doc.Rows, []string{l.Description, span(l.PeriodStart, l.PeriodEnd),
			strconv.FormatInt(l.Quantity, 10), amount(l.UnitAmount), l.TaxRate.String() + "%", amount(l.Amount)})
	}
	if inv.Memo != "" {
		doc.Notes = append(doc.Notes, inv.Memo)
	}
	return doc
}

// clientLocation is the zone of a client's billing: its timezone, else the
// server's.
func (s *Service) clientLocation(c *Client) *time.Location {
	if c.Timezone != "" {
		if l, err := tz.Load(c.Timezone); err == nil {
			return l
		}
	}
	return s.cfg.Location
}

// documentParties loads what every billing document shows besides its own
// rows: the client and the currency (for its exponent). Errors: not_found.
func (s *Service) documentParties(ctx context.Context, clientsID int64, currency string) (*Client, *Currency, error) {
	client, err := s.store.FindClient(ctx, clientsID)
	if err != nil {
		return nil, nil, err
	}
	cur, err := s.store.FindCurrency(ctx, currency)
	if err != nil {
		return nil, nil, err
	}
	return client, cur, nil
}

package service

import (
	"context"
	"time"
)

// Invoice kinds: why an invoice was made.
const (
	InvoiceKindCycle     = "cycle"     // a subscription period, by the billing run (one per period)
	InvoiceKindProration = "proration" // an instant plan, price or seat change
	InvoiceKindRefund    = "refund"    // a cancellation with a refund
	InvoiceKindManual    = "manual"    // billing.invoices.create
)

// Invoice line kinds.
const (
	LineSubscription = "subscription"
	LineProration    = "proration"
	LineRefund       = "refund"
	LineManual       = "manual"
	LineUsage        = "usage"    // metered usage of the period that ended
	LineDiscount     = "discount" // a voucher
)

// Invoice is a bill to a client, in the client's currency (seed 002). Its
// status follows draft → finalized → paid | void; a finalized invoice has a
// gap-free number in its reseller's sequence, has debited the client's
// ledger, and never changes again but for its status.
type Invoice struct {
	ID                 int64          `json:"id"`
	Number             *int64         `json:"number" doc:"gap-free in the reseller's sequence (per mode); set when finalized"`
	ClientsID          int64          `json:"clients_id"`
	ResellersID        *int64         `json:"resellers_id" doc:"the numbering sequence: the client's reseller when finalized"`
	SubscriptionsID    *int64         `json:"subscriptions_id"`
	Kind               string         `json:"kind" enum:"cycle,proration,refund,manual"`
	Status             string         `json:"status" enum:"draft,finalized,paid,void"`
	Currency           string         `json:"currency"`
	Subtotal           int64          `json:"subtotal" doc:"minor units: the sum of the line amounts"`
	Tax                int64          `json:"tax" doc:"minor units: from the unrounded line amounts, rounded once"`
	Total              int64          `json:"total" doc:"minor units: subtotal + tax (negative for a credit)"`
	AmountPaid         int64          `json:"amount_paid" doc:"minor units its payments have paid; it is paid once they cover the total"`
	PeriodStart        *time.Time     `json:"period_start"`
	PeriodEnd          *time.Time     `json:"period_end"`
	IssuedAt           time.Time      `json:"issued_at" doc:"the billing time it was made for (the test clock's in test mode)"`
	DueAt              time.Time      `json:"due_at"`
	FinalizedAt        *time.Time     `json:"finalized_at"`
	PaidAt             *time.Time     `json:"paid_at"`
	VoidedAt           *time.Time     `json:"voided_at"`
	TransactionsID     *int64         `json:"transactions_id" doc:"the ledger entry made when it was finalized"`
	VoidTransactionsID *int64         `json:"void_transactions_id" doc:"the ledger entry that reversed it when voided"`
	Memo               string         `json:"memo"`
	Lines              []*InvoiceLine `json:"lines"`
	LiveMode           bool           `json:"live_mode"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
}

// InvoiceLine is one line of an invoice. Amount is net of tax, in minor
// units, rounded once from the exact priced amount.
type InvoiceLine struct {
	Position    int        `json:"position"`
	Kind        string     `json:"kind" enum:"subscription,proration,refund,manual,usage,discount"`
	Description string     `json:"description"`
	PricesID    *int64     `json:"prices_id"`
	Quantity    int64      `json:"quantity" doc:"seats or units; negative on credit lines"`
	UnitAmount  int64      `json:"unit_amount"`
	Amount      int64      `json:"amount"`
	TaxRate     TaxRate    `json:"tax_rate" doc:"percent"`
	PeriodStart *time.Time `json:"period_start"`
	PeriodEnd   *time.Time `json:"period_end"`
}

// InvoiceFilter are the typed filters of billing.invoices.search and .count.
type InvoiceFilter struct {
	ID              IDs     `json:"id" filter:"id"`
	ClientsID       IDs     `json:"clients_id" filter:"clients_id"`
	SubscriptionsID IDs     `json:"subscriptions_id" filter:"subscriptions_id"`
	Number          IDs     `json:"number" filter:"number"`
	Status          Strings `json:"status" filter:"status"`
	Kind            Strings `json:"kind" filter:"kind"`
}

// InvoiceSearch are the params of billing.invoices.search.
type InvoiceSearch struct {
	ListParams
	InvoiceFilter
}

// InvoiceCount are the params of billing.invoices.count.
type InvoiceCount struct {
	FilterParams
	InvoiceFilter
}

// ClientInvoices are the params of billing.clients.invoices.
type ClientInvoices struct {
	ListParams
	ClientsID int64   `json:"clients_id" required:"true"`
	Status    Strings `json:"status" filter:"status"`
}

var invoiceList = ListSpec{Sort: []string{"id", "number", "issued_at", "created_at", "total"}, Search: []string{"memo"}}

// PDFDocument is a document as a PDF (an invoice, a receipt): REST serves the
// bytes as application/pdf, JSON-RPC sends them base64-encoded in "pdf".
type PDFDocument struct {
	ID       int64  `json:"id"`
	Filename string `json:"filename"`
	PDF      []byte `json:"pdf" doc:"the document (base64 in JSON)"`
}

// ContentType is the media type REST serves the document with.
func (*PDFDocument) ContentType() string { return "application/pdf" }

// InvoicePDF is an invoice as a PDF document.
type InvoicePDF = PDFDocument

func (s *Service) registerInvoices() {
	r := s.registry
	Register(r, Decl[InvoiceSearch, *Page[*Invoice]]{
		Name: "billing.invoices.search", Summary: "List invoices with their lines.", HTTP: Route{Verb: "GET", Path: "/billing/invoices"},
		Do: func(ctx context.Context, p *InvoiceSearch) (*Page[*Invoice], error) {
			q, err := BuildQuery(invoiceList, p.FilterParams, &p.ListParams, &p.InvoiceFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchInvoices(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[InvoiceCount, *Count]{
		Name: "billing.invoices.count", Summary: "Count invoices.", HTTP: Route{Verb: "GET", Path: "/billing/invoices/count"},
		Do: func(ctx context.Context, p *InvoiceCount) (*Count, error) {
			q, err := BuildQuery(invoiceList, p.FilterParams, nil, &p.InvoiceFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountInvoices(ctx, q)
			return &Count{Count: n}, err
		},
	})
	Register(r, Decl[IDParams, *Invoice]{
		Name: "billing.invoices.get", Summary: "Get an invoice with its lines.", HTTP: Route{Verb: "GET", Path: "/billing/invoices/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Invoice, error) { return s.store.FindInvoice(ctx, p.ID) },
	})
	Register(r, Decl[IDParams, *InvoicePDF]{
		Name: "billing.invoices.pdf", Summary: "The invoice as a PDF (REST: the document; JSON-RPC: base64 in pdf).",
		HTTP: Route{Verb: "GET", Path: "/billing/invoices/:id/pdf", Raw: "pdf"}, Do: s.invoicePDF,
	})
	Register(r, Decl[ClientInvoices, *Page[*Invoice]]{
		Name: "billing.clients.invoices", Summary: "List a client's invoices.",
		HTTP: Route{Verb: "GET", Path: "/billing/clients/:clients_id/invoices"},
		Do: func(ctx context.Context, p *ClientInvoices) (*Page[*Invoice], error) {
			q, err := BuildQuery(invoiceList, p.FilterParams, &p.ListParams, p)
			if err != nil {
				return nil, err
			}
			if _, err := s.store.FindClient(ctx, p.ClientsID); err != nil {
				return nil, err
			}
			q.Filters = append(q.Filters, Filter{Field: "clients_id", Values: []any{p.ClientsID}})
			rows, err := s.store.SearchInvoices(ctx, q)
			return NewPage(rows, q), err
		},
	})
	s.registerInvoiceChanges()
}

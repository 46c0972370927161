package service

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// PaymentCompleted is the status of a payment or refund the provider has done.
const PaymentCompleted = "completed"

// Payment is money a client paid (seed 002), through a provider, against
// one or more invoices or none (money kept as prepaid credit). An invoice is
// paid once its payments cover its total. Amounts are in the client's
// currency, in minor units.
type Payment struct {
	ID                int64               `json:"id"`
	ClientsID         int64               `json:"clients_id"`
	ResellersID       *int64              `json:"resellers_id" doc:"the client's reseller when recorded: external_reference is unique per reseller and mode"`
	Amount            int64               `json:"amount" doc:"minor units"`
	Refunded          int64               `json:"refunded" doc:"minor units refunded so far"`
	Currency          string              `json:"currency"`
	Provider          string              `json:"provider" doc:"manual or balance (or a registered card processor)"`
	Method            string              `json:"method" doc:"manual payments: bank_transfer, cash, check or other"`
	ExternalReference string              `json:"external_reference" doc:"the payer's or bank's reference; unique per reseller and mode"`
	ProviderReference string              `json:"provider_reference"`
	Status            string              `json:"status" enum:"completed"`
	Notes             string              `json:"notes"`
	Invoices          []PaymentAllocation `json:"invoices" doc:"what the payment paid of each invoice"`
	TransactionsID    *int64              `json:"transactions_id" doc:"the ledger credit; null for a payment from the prepaid balance (no money moved)"`
	UsersID           *int64              `json:"users_id"`
	ReceivedAt        time.Time           `json:"received_at"`
	LiveMode          bool                `json:"live_mode"`
	CreatedAt         time.Time           `json:"created_at"`
	UpdatedAt         time.Time           `json:"updated_at"`
}

// PaymentAllocation is the part of a payment that went to one invoice.
type PaymentAllocation struct {
	InvoicesID int64 `json:"invoices_id"`
	Amount     int64 `json:"amount"`
}

// PaymentFilter are the typed filters of billing.payments.search.
type PaymentFilter struct {
	ID                IDs     `json:"id" filter:"id"`
	ClientsID         IDs     `json:"clients_id" filter:"clients_id"`
	Provider          Strings `json:"provider" filter:"provider"`
	ExternalReference Strings `json:"external_reference" filter:"external_reference"`
}

// PaymentSearch are the params of billing.payments.search.
type PaymentSearch struct {
	ListParams
	PaymentFilter
}

// ClientPayments are the params of billing.clients.payments.
type ClientPayments struct {
	ListParams
	ClientsID int64   `json:"clients_id" required:"true"`
	Provider  Strings `json:"provider" filter:"provider"`
}

var paymentList = ListSpec{Sort: []string{"id", "created_at", "amount"}, Search: []string{"external_reference", "notes"}}

// PaymentCreate are the params of billing.payments.create.
type PaymentCreate struct {
	ClientsID         int64   `json:"clients_id" required:"true"`
	Invoices          []int64 `json:"invoices" doc:"finalized invoices of the client to pay, in this order, each up to what it still owes"`
	Amount            *int64  `json:"amount" doc:"minor units; default: what the invoices still owe. Beyond that (manual only) it stays as prepaid credit"`
	Currency          string  `json:"currency" doc:"default and only accepted: the client's currency"`
	Provider          string  `json:"provider" doc:"manual (default) or balance: pay from the prepaid balance"`
	Method            string  `json:"method" doc:"manual: bank_transfer (default), cash, check or other"`
	ExternalReference string  `json:"external_reference" doc:"unique per reseller and mode: recording it twice is a conflict"`
	Notes             string  `json:"notes"`
}

// Validate checks the fields.
func (p *PaymentCreate) Validate() error {
	v := Validation{}
	p.Currency = strings.ToUpper(p.Currency)
	if p.Provider == "" {
		p.Provider = ProviderManual
	}
	v.Check(len(p.Invoices) <= 100, "invoices", "must name at most 100 invoices")
	seen := map[int64]bool{}
	for _, id := range p.Invoices {
		v.Check(!seen[id], "invoices", "must not repeat an invoice")
		seen[id] = true
	}
	v.Check(p.Amount == nil || (*p.Amount > 0 && *p.Amount <= maxUnitAmount), "amount", "must be 1 to 10^12 minor units")
	v.Check(p.Amount != nil || len(p.Invoices) > 0, "amount", "is required when no invoices are named")
	v.Check(p.Currency == "" || currencyRe.MatchString(p.Currency), "currency", "must be a 3-letter ISO 4217 code")
	v.Check(len(p.ExternalReference) <= 200, "external_reference", "must be at most 200 characters")
	v.Check(len(p.Notes) <= 1000, "notes", "must be at most 1000 characters")
	return v.Err()
}

// PaymentRefund are the params of billing.payments.refund (seed 002's
// "Refund Payment").
type PaymentRefund struct {
	ID       int64  `json:"id" required:"true" doc:"the payment"`
	Amount   int64  `json:"amount" required:"true" doc:"minor units, at most what the payment has left to refund"`
	Currency string `json:"currency" doc:"the payment's currency (the only one accepted)"`
	Reason   string `json:"reason"`
}

// Validate checks amount, currency and reason.
func (p *PaymentRefund) Validate() error {
	v := Validation{}
	p.Currency = strings.ToUpper(p.Currency)
	v.Check(p.Amount > 0 && p.Amount <= maxUnitAmount, "amount", "must be 1 to 10^12 minor units")
	v.Check(p.Currency == "" || currencyRe.MatchString(p.Currency), "currency", "must be a 3-letter ISO 4217 code")
	v.Check(len(p.Reason) <= 1000, "reason", "must be at most 1000 characters")
	return v.Err()
}

// registerBillingII registers the billing lifecycle II (issue 7): payments,
// refunds and receipts, vouchers, usage metering with limits, checkout, and
// the client's limits.
func (s *Service) registerBillingII() {
	s.registerPayments()
	s.registerVouchers()
	s.registerUsage()
	s.registerCheckout()
	Register(s.registry, Decl[ClientLimitsParams, *ClientLimits]{
		Name: "clients.limits", Summary: "The features, limits and user count a client's active subscriptions give it (seed 002's Fetch Customer Limits).",
		HTTP: Route{Verb: "GET", Path: "/clients/:id/limits"}, Do: s.clientLimits,
	})
}

func (s *Service) registerPayments() {
	r := s.registry
	Register(r, Decl[PaymentSearch, *Page[*Payment]]{
		Name: "billing.payments.search", Summary: "List payments.", HTTP: Route{Verb: "GET", Path: "/billing/payments"},
		Do: func(ctx context.Context, p *PaymentSearch) (*Page[*Payment], error) {
			q, err := BuildQuery(paymentList, p.FilterParams, &p.ListParams, &p.PaymentFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchPayments(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[IDParams, *Payment]{
		Name: "billing.payments.get", Summary: "Get a payment with what it paid.", HTTP: Route{Verb: "GET", Path: "/billing/payments/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Payment, error) { return s.store.FindPayment(ctx, p.ID) },
	})
	Register(r, Decl[PaymentCreate, *Payment]{
		Name: "billing.payments.create", Summary: "Record a payment (manual: bank transfer, cash…; or from the prepaid balance) against invoices; covered invoices become paid.",
		HTTP: Route{Verb: "POST", Path: "/billing/payments", Created: true}, Idempotent: true,
		Raises: []Code{CodeUnprocessable}, Do: s.createPayment,
	})
	Register(r, Decl[PaymentRefund, *Refund]{
		Name: "billing.payments.refund", Summary: "Refund part or all of a payment (never more than it has left to refund): a ledger debit.",
		HTTP: Route{Verb: "POST", Path: "/billing/payments/:id/refund"}, Idempotent: true,
		Raises: []Code{CodeUnprocessable},
		Do: func(ctx context.Context, p *PaymentRefund) (*Refund, error) {
			return s.refundPayment(ctx, &refundOrder{paymentID: p.ID, amount: p.Amount, currency: p.Currency, reason: p.Reason})
		},
	})
	Register(r, Decl[ClientPayments, *Page[*Payment]]{
		Name: "billing.clients.payments", Summary: "List a client's payments.",
		HTTP: Route{Verb: "GET", Path: "/billing/clients/:clients_id/payments"},
		Do: func(ctx context.Context, p *ClientPayments) (*Page[*Payment], error) {
			q, err := BuildQuery(paymentList, p.FilterParams, &p.ListParams, p)
			if err != nil {
				return nil, err
			}
			if _, err := s.store.FindClient(ctx, p.ClientsID); err != nil {
				return nil, err
			}
			q.Filters = append(q.Filters, Filter{Field: "clients_id", Values: []any{p.ClientsID}})
			rows, err := s.store.SearchPayments(ctx, q)
			return NewPage(rows, q), err
		},
	})
	s.registerRefunds()
	s.registerReceipts()
}

// createPayment records p in one transaction. Errors: not_found (client,
// invoice), invalid_params (an invoice of another client or currency, an
// amount beyond what a balance payment may pay), unprocessable
// (invalid_state: an invoice not finalized; low_balance), conflict
// (external_reference already recorded).
func (s *Service) createPayment(ctx context.Context, p *PaymentCreate) (*Payment, error) {
	prov, err := paymentProvider("provider", p.Provider)
	if err != nil {
		return nil, err
	}
	if err := checkMethod(prov, &p.Method); err != nil {
		return nil, err
	}
	now, err := s.billingNow(ctx)
	if err != nil {
		return nil, err
	}
	var out *Payment
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		out, err = s.recordPayment(ctx, &paymentOrder{clientID: p.ClientsID, invoices: p.Invoices, amount: p.Amount,
			currency: p.Currency, provider: prov, method: p.Method, reference: p.ExternalReference, notes: p.Notes, at: now})
		return err
	})
	return out, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func joinComma(s []string) string { return strings.Join(s, ", ") }

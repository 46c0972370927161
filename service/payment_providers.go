package service

import (
	"context"
	"slices"
	"sort"
	"sync"
)

// Payment providers built in.
const (
	ProviderManual  = "manual"  // money received outside billgate: a bank transfer, cash, a cheque
	ProviderBalance = "balance" // the client's prepaid balance
)

// Payment methods of the manual provider.
const (
	MethodBankTransfer = "bank_transfer"
	MethodCash         = "cash"
	MethodCheck        = "check"
	MethodOther        = "other"
)

// PaymentProvider takes the money of a payment and pays refunds back. The
// service calls it inside the transaction that records the payment or the
// refund (with the client's row locked), and posts the ledger entry itself
// when the provider reports that money crossed: a credit for a payment, a
// debit for a refund. A card processor is added by implementing this
// interface and registering it with RegisterPaymentProvider.
type PaymentProvider interface {
	// Name is the provider's name in payments (unique).
	Name() string
	// Methods lists the payment methods the provider accepts; the first is
	// the default. Empty: the method must be empty.
	Methods() []string
	// Collect takes in c.Amount. An error refuses the payment (the service
	// returns it unchanged: an unprocessable reason such as low_balance).
	Collect(ctx context.Context, c *Collection) (*Movement, error)
	// Refund pays amount of payment p back to the client; an error refuses
	// the refund.
	Refund(ctx context.Context, p *Payment, amount int64) (*Movement, error)
}

// Collection is a payment as a provider sees it.
type Collection struct {
	Client   *Client // locked until the transaction ends
	Amount   int64   // minor units of Currency, > 0
	Currency string  // the client's currency
	Method   string
	// Due is what the invoices the payment is for still owe.
	Due int64
	// Available is the client's prepaid money not yet spent on invoices:
	// its balance plus what its finalized invoices still owe (their debit is
	// already in the balance).
	Available int64
}

// Movement is what a provider did: its reference of the movement, and
// whether money crossed between the client and us (the ledger follows).
type Movement struct {
	Reference  string
	MovesMoney bool
}

var (
	providersMu sync.RWMutex
	providers   = map[string]PaymentProvider{}
)

// RegisterPaymentProvider makes p available to billing.payments.create under
// p.Name(); call it at program start (as database/sql drivers register).
// It panics when the name is taken.
func RegisterPaymentProvider(p PaymentProvider) {
	providersMu.Lock()
	defer providersMu.Unlock()
	if _, dup := providers[p.Name()]; dup {
		panic("service: payment provider " + p.Name() + " registered twice")
	}
	providers[p.Name()] = p
}

func init() {
	RegisterPaymentProvider(manualProvider{})
	RegisterPaymentProvider(balanceProvider{})
}

// paymentProvider returns the provider called name (invalid_params naming
// field when there is none).
func paymentProvider(field, name string) (PaymentProvider, error) {
	providersMu.RLock()
	defer providersMu.RUnlock()
	p, ok := providers[name]
	if !ok {
		names := make([]string, 0, len(providers))
		for n := range providers {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, InvalidField(field, "unknown payment provider (have: "+joinComma(names)+")")
	}
	return p, nil
}

// checkMethod defaults and checks the payment method of provider p.
func checkMethod(p PaymentProvider, method *string) error {
	ms := p.Methods()
	switch {
	case *method == "" && len(ms) > 0:
		*method = ms[0]
	case *method != "" && !slices.Contains(ms, *method):
		if len(ms) == 0 {
			return InvalidField("method", "the "+p.Name()+" provider takes no method")
		}
		return InvalidField("method", "must be one of "+joinComma(ms)+" for the "+p.Name()+" provider")
	}
	return nil
}

// manualProvider records money that arrived outside billgate (a bank
// transfer, cash, a cheque): the payment credits the client's ledger, and a
// refund — money handed back the same way — debits it.
type manualProvider struct{}

func (manualProvider) Name() string { return ProviderManual }

func (manualProvider) Methods() []string {
	return []string{MethodBankTransfer, MethodCash, MethodCheck, MethodOther}
}

func (manualProvider) Collect(_ context.Context, c *Collection) (*Movement, error) {
	return &Movement{Reference: c.Method, MovesMoney: true}, nil
}

func (manualProvider) Refund(_ context.Context, p *Payment, _ int64) (*Movement, error) {
	return &Movement{Reference: p.Method, MovesMoney: true}, nil
}

// balanceProvider pays invoices from the client's prepaid balance. No money
// crosses: the invoices' debit is in the balance since they were finalized,
// so paying them only spends prepaid money on them — which must be there
// (low_balance otherwise). Such a payment is not refunded in money: a credit
// (a refund invoice) gives prepaid money back.
type balanceProvider struct{}

func (balanceProvider) Name() string { return ProviderBalance }

func (balanceProvider) Methods() []string { return nil }

func (balanceProvider) Collect(_ context.Context, c *Collection) (*Movement, error) {
	switch {
	case c.Due == 0:
		return nil, InvalidField("invoices", "a payment from the balance pays invoices: name the ones it pays")
	case c.Amount > c.Due:
		return nil, InvalidField("amount", "exceeds the "+itoa(c.Due)+" the invoices still owe")
	case c.Amount > c.Available:
		return nil, Unprocessable("low_balance", "low balance: client %d has %d of prepaid money available, the payment needs %d",
			c.Client.ID, max(c.Available, 0), c.Amount)
	}
	return &Movement{MovesMoney: false}, nil
}

func (balanceProvider) Refund(_ context.Context, p *Payment, _ int64) (*Movement, error) {
	return nil, Unprocessable("not_refundable", "payment %d was paid from the prepaid balance: no money was paid to refund "+
		"(a credit — a refund invoice — gives prepaid money back)", p.ID)
}

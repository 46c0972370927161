package service

import (
	"slices"

	"github.com/billgate/billgate/pkg/tz"
)

// Client types, billing types and invoice formats (seed 002's customers).
const (
	ClientIndividual = "individual"
	ClientBusiness   = "business"
	BillingByCard    = "card"
	BillingByInvoice = "invoice"
	InvoiceFormatPDF = "pdf"
	InvoiceFormatXR  = "xrechnung"
)

// ClientBillingSettings are a client's tax and billing settings (seed 002).
// The store fills the defaults of empty fields: type individual,
// billing_type invoice, locale en, invoice_format pdf.
type ClientBillingSettings struct {
	StandardTaxRate *TaxRate `json:"standard_tax_rate" doc:"percent on standard products, an exact decimal string (\"19\", \"7.5\"); null: no tax"`
	DigitalTaxRate  *TaxRate `json:"digital_tax_rate" doc:"percent on digital products; null: the standard rate"`
	Type            string   `json:"type" enum:"individual,business" doc:"default individual"`
	BillingType     string   `json:"billing_type" enum:"card,invoice" doc:"default invoice: due 14 days after issue (card: due on issue)"`
	Locale          string   `json:"locale" doc:"default en"`
	InvoiceFormat   string   `json:"invoice_format" enum:"pdf,xrechnung" doc:"default pdf"`
	MarketingOptIn  bool     `json:"marketing_opt_in"`
	Timezone        string   `json:"timezone" doc:"IANA zone of the client's billing periods; empty: the server's zone"`
}

// check validates the settings given at creation.
func (b *ClientBillingSettings) check(v Validation) {
	checkBilling(v, false, &b.Type, &b.BillingType, &b.Locale, &b.InvoiceFormat, &b.Timezone)
	if b.StandardTaxRate != nil && !b.StandardTaxRate.IsSet() {
		b.StandardTaxRate = nil
	}
	if b.DigitalTaxRate != nil && !b.DigitalTaxRate.IsSet() {
		b.DigitalTaxRate = nil
	}
}

// ClientBillingUpdate are the billing settings clients.update may change; a
// tax rate sent as "" is cleared.
type ClientBillingUpdate struct {
	StandardTaxRate *TaxRate `json:"standard_tax_rate" doc:"\"\" clears it"`
	DigitalTaxRate  *TaxRate `json:"digital_tax_rate" doc:"\"\" clears it"`
	Type            *string  `json:"type" enum:"individual,business"`
	BillingType     *string  `json:"billing_type" enum:"card,invoice"`
	Locale          *string  `json:"locale"`
	InvoiceFormat   *string  `json:"invoice_format" enum:"pdf,xrechnung"`
	MarketingOptIn  *bool    `json:"marketing_opt_in"`
	Timezone        *string  `json:"timezone" doc:"periods already running keep the zone they started in"`
}

func (b *ClientBillingUpdate) check(v Validation) {
	checkBilling(v, true, b.Type, b.BillingType, b.Locale, b.InvoiceFormat, b.Timezone)
}

// apply writes the fields sent into c through set (the update's change
// recorder: name, before, after, apply).
func (b *ClientBillingUpdate) apply(c *ClientBillingSettings, set func(string, any, any, func())) {
	rate := func(name string, cur **TaxRate, to *TaxRate) {
		if to == nil {
			return
		}
		var next *TaxRate
		if to.IsSet() {
			next = to
		}
		set(name, rateText(*cur), rateText(next), func() { *cur = next })
	}
	rate("standard_tax_rate", &c.StandardTaxRate, b.StandardTaxRate)
	rate("digital_tax_rate", &c.DigitalTaxRate, b.DigitalTaxRate)
	str := func(name string, cur *string, to *string) {
		if to != nil {
			set(name, *cur, *to, func() { *cur = *to })
		}
	}
	str("type", &c.Type, b.Type)
	str("billing_type", &c.BillingType, b.BillingType)
	str("locale", &c.Locale, b.Locale)
	str("invoice_format", &c.InvoiceFormat, b.InvoiceFormat)
	str("timezone", &c.Timezone, b.Timezone)
	if b.MarketingOptIn != nil {
		set("marketing_opt_in", c.MarketingOptIn, *b.MarketingOptIn, func() { c.MarketingOptIn = *b.MarketingOptIn })
	}
}

// rateText is a rate for the audit trail (nil: "").
func rateText(r *TaxRate) string {
	if r == nil {
		return ""
	}
	return r.String()
}

// checkBilling checks the settings sent; on update (where an empty value
// would not mean "the default") type, billing_type, locale and invoice_format
// must not be empty.
func checkBilling(v Validation, update bool, typ, billing, locale, format, zone *string) {
	for name, f := range map[string]*string{"type": typ, "billing_type": billing, "locale": locale, "invoice_format": format} {
		v.Check(!update || f == nil || *f != "", name, "must not be empty")
	}
	if typ != nil && *typ != "" {
		v.Check(slices.Contains([]string{ClientIndividual, ClientBusiness}, *typ), "type", "must be individual or business")
	}
	if billing != nil && *billing != "" {
		v.Check(*billing == BillingByCard || *billing == BillingByInvoice, "billing_type", "must be card or invoice")
	}
	if locale != nil {
		v.Check(len(*locale) <= 16, "locale", "must be at most 16 characters")
	}
	if format != nil && *format != "" {
		v.Check(*format == InvoiceFormatPDF || *format == InvoiceFormatXR, "invoice_format", "must be pdf or xrechnung")
	}
	if zone != nil && *zone != "" {
		_, err := tz.Load(*zone)
		v.Check(err == nil, "timezone", "unknown time zone (want an IANA name such as Europe/Berlin)")
	}
}

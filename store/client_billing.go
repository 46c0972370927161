package store

import (
	"github.com/billgate/billgate/service"
)

// ClientBillingColumns are the tax and billing settings columns of clients
// (migration 00004), embedded in clientRow. Tax rates are kept as the exact
// decimal strings they were given as; NULL is "no rate".
type ClientBillingColumns struct {
	StandardTaxRate *string `gorm:"column:standard_tax_rate"`
	DigitalTaxRate  *string `gorm:"column:digital_tax_rate"`
	Type            string  `gorm:"column:type"`
	BillingType     string  `gorm:"column:billing_type"`
	Locale          string  `gorm:"column:locale"`
	InvoiceFormat   string  `gorm:"column:invoice_format"`
	MarketingOptIn  bool    `gorm:"column:marketing_opt_in"`
	Timezone        string  `gorm:"column:timezone"`
}

// billingColumnsOf converts the service's settings, filling the defaults of
// empty fields (individual, invoice, en, pdf) as the columns' defaults would.
func billingColumnsOf(b *service.ClientBillingSettings) ClientBillingColumns {
	c := ClientBillingColumns{
		StandardTaxRate: rateColumn(b.StandardTaxRate), DigitalTaxRate: rateColumn(b.DigitalTaxRate),
		Type: b.Type, BillingType: b.BillingType, Locale: b.Locale, InvoiceFormat: b.InvoiceFormat,
		MarketingOptIn: b.MarketingOptIn, Timezone: b.Timezone,
	}
	for _, d := range []struct {
		v   *string
		def string
	}{
		{&c.Type, service.ClientIndividual}, {&c.BillingType, service.BillingByInvoice},
		{&c.Locale, "en"}, {&c.InvoiceFormat, service.InvoiceFormatPDF},
	} {
		if *d.v == "" {
			*d.v = d.def
		}
	}
	return c
}

func rateColumn(r *service.TaxRate) *string {
	if r == nil || !r.IsSet() {
		return nil
	}
	s := r.String()
	return &s
}

// toService converts the columns; a stored rate that no longer parses (it was
// validated when written) reads as unset.
func (c ClientBillingColumns) toService() service.ClientBillingSettings {
	rate := func(s *string) *service.TaxRate {
		if s == nil {
			return nil
		}
		r, err := service.ParseTaxRate(*s)
		if err != nil {
			return nil
		}
		return &r
	}
	return service.ClientBillingSettings{
		StandardTaxRate: rate(c.StandardTaxRate), DigitalTaxRate: rate(c.DigitalTaxRate), Type: c.Type,
		BillingType: c.BillingType, Locale: c.Locale, InvoiceFormat: c.InvoiceFormat,
		MarketingOptIn: c.MarketingOptIn, Timezone: c.Timezone,
	}
}

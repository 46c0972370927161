package service

import (
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/billgate/billgate/pkg/money"
)

// maxUnitAmount bounds a price or line amount (10^12 minor units): a unit
// amount times the maximum quantity stays within int64.
const maxUnitAmount = 1_000_000_000_000

// TaxRate is a tax rate in percent, an exact decimal: a string on the wire
// ("19", "7.25"); a JSON number is accepted on input and read digit for
// digit, never as a float. The zero value is "no rate set".
type TaxRate struct{ r *big.Rat }

var taxRateRe = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,6})?$`)

// ParseTaxRate reads a percentage from 0 to 100 with at most 6 decimals.
func ParseTaxRate(s string) (TaxRate, error) {
	s = strings.TrimSpace(s)
	r, ok := new(big.Rat).SetString(s)
	if !taxRateRe.MatchString(s) || !ok || r.Cmp(big.NewRat(100, 1)) > 0 {
		return TaxRate{}, errString(`must be a percentage from 0 to 100 such as "19" or "7.25"`)
	}
	return TaxRate{r}, nil
}

// UnmarshalJSON reads "19.5" or 19.5; "" is the unset rate.
func (t *TaxRate) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" {
		*t = TaxRate{}
		return nil
	}
	v, err := ParseTaxRate(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalJSON writes the rate as a decimal string.
func (t TaxRate) MarshalJSON() ([]byte, error) { return []byte(`"` + t.String() + `"`), nil }

// TypeDescription names the wire type in errors and documents.
func (TaxRate) TypeDescription() string { return "a percentage as a decimal string" }

// IsSet reports whether a rate was given.
func (t TaxRate) IsSet() bool { return t.r != nil }

// String writes the rate without trailing zeros ("0" when unset).
func (t TaxRate) String() string {
	if t.r == nil {
		return "0"
	}
	s := strings.TrimRight(t.r.FloatString(6), "0")
	return strings.TrimSuffix(s, ".")
}

// fraction returns the rate as a fraction (19 → 19/100); 0 when unset.
func (t TaxRate) fraction() *big.Rat {
	if t.r == nil {
		return new(big.Rat)
	}
	return new(big.Rat).Quo(t.r, big.NewRat(100, 1))
}

// clientTaxRate is the rate a product of taxType bears for client: its
// digital rate for digital products when set, else its standard rate, else 0.
func clientTaxRate(c *Client, taxType string) TaxRate {
	if taxType == TaxDigital && c.DigitalTaxRate != nil && c.DigitalTaxRate.IsSet() {
		return *c.DigitalTaxRate
	}
	if c.StandardTaxRate != nil && c.StandardTaxRate.IsSet() {
		return *c.StandardTaxRate
	}
	return TaxRate{r: new(big.Rat)}
}

// draftLine is an invoice line before rounding.
type draftLine struct {
	line InvoiceLine
	// exact is the line's amount as priced, before any rounding: the unit
	// amount times the quantity times the share of the period. It includes
	// the tax when inclusive.
	exact     *big.Rat
	inclusive bool
}

// priceInvoice sets the lines and the totals of inv, rounding with
// money.Round (half to even) only here:
//
//	net_i    = exact_i, or exact_i / (1 + rate_i) for a price including tax
//	amount_i = Round(net_i)                 (each line, once)
//	subtotal = Σ amount_i
//	tax      = Round(Σ net_i × rate_i)      (from the unrounded amounts, once)
//	total    = subtotal + tax
//
// It fails (invalid_params) when an amount leaves int64.
func priceInvoice(inv *Invoice, lines []draftLine) error {
	taxSum := new(big.Rat)
	var subtotal big.Int
	inv.Lines = make([]*InvoiceLine, 0, len(lines))
	for i := range lines {
		d := &lines[i]
		rate := d.line.TaxRate.fraction()
		net := new(big.Rat).Set(d.exact)
		if d.inclusive {
			net.Quo(net, new(big.Rat).Add(big.NewRat(1, 1), rate))
		}
		amount, err := money.Round(net)
		if err != nil {
			return InvalidField("lines", "an amount is out of range")
		}
		d.line.Amount, d.line.Position = amount, i+1
		subtotal.Add(&subtotal, big.NewInt(amount))
		taxSum.Add(taxSum, new(big.Rat).Mul(net, rate))
		inv.Lines = append(inv.Lines, &d.line)
	}
	tax, err := money.Round(taxSum)
	total := new(big.Int).Add(&subtotal, big.NewInt(tax))
	if err != nil || !subtotal.IsInt64() || !total.IsInt64() {
		return InvalidField("lines", "the total is out of range")
	}
	inv.Subtotal, inv.Tax, inv.Total = subtotal.Int64(), tax, total.Int64()
	return nil
}

// remaining is the share of the period [start, end) still ahead at t:
// (end − t) / (end − start), exactly, within [0, 1]. Durations are real
// elapsed time, so a day of a daylight-saving change counts 23 or 25 hours.
func remaining(t, start, end time.Time) *big.Rat {
	total := end.Sub(start)
	left := end.Sub(t)
	switch {
	case total <= 0 || left <= 0:
		return new(big.Rat)
	case left >= total:
		return big.NewRat(1, 1)
	}
	return big.NewRat(int64(left), int64(total))
}

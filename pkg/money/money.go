// Package money does exact arithmetic for amounts in minor units and exchange
// rates as decimals. No binary float ever touches a value: rates are parsed
// from decimal strings into big.Rat and every conversion rounds once, half to even.
package money

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// RateScale is the number of decimal places a derived rate (a reverse or a
// cross rate) is rounded to.
const RateScale = 12

// Rate is an exact, positive decimal exchange rate.
type Rate struct{ r *big.Rat }

// ParseRate reads a decimal string such as "1.0842". Exponents, signs other
// than none, zero and more than 30 significant digits are refused.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 40 || strings.ContainsAny(s, "eE+-/ ") {
		return Rate{}, fmt.Errorf("%q is not a positive decimal", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return Rate{}, fmt.Errorf("%q is not a positive decimal", s)
	}
	return Rate{r}, nil
}

// MustRate is ParseRate for constants.
func MustRate(s string) Rate {
	r, err := ParseRate(s)
	if err != nil {
		panic(err)
	}
	return r
}

// IsZero reports an unset rate.
func (r Rate) IsZero() bool { return r.r == nil }

// String writes the rate as a decimal without trailing zeros.
func (r Rate) String() string {
	if r.r == nil {
		return "0"
	}
	if r.r.IsInt() {
		return r.r.Num().String()
	}
	s := r.r.FloatString(RateScale + 8) // exact for the rates we store
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Inverse returns 1/r rounded half-even to RateScale places.
func (r Rate) Inverse() Rate {
	return Rate{roundRat(new(big.Rat).Inv(r.r), RateScale)}
}

// Mul returns r×o rounded half-even to RateScale places (a cross rate).
func (r Rate) Mul(o Rate) Rate {
	return Rate{roundRat(new(big.Rat).Mul(r.r, o.r), RateScale)}
}

// Equal reports whether two rates are the same number.
func (r Rate) Equal(o Rate) bool { return r.r != nil && o.r != nil && r.r.Cmp(o.r) == 0 }

// ErrOverflow is returned when a converted amount does not fit in int64.
var ErrOverflow = errors.New("amount out of range")

// Convert turns amount (minor units, fromExp decimals) into minor units of a
// currency with toExp decimals at rate, rounding half to even once.
func Convert(amount int64, fromExp, toExp int, r Rate) (int64, error) {
	if r.r == nil {
		return 0, errors.New("no rate")
	}
	v := new(big.Rat).SetInt64(amount)
	v.Mul(v, r.r)
	v.Mul(v, pow10Rat(toExp-fromExp))
	n := roundHalfEven(v)
	if !n.IsInt64() {
		return 0, ErrOverflow
	}
	return n.Int64(), nil
}

// Round rounds v to an integer, half to even: the one rounding function for
// amounts.
func Round(v *big.Rat) (int64, error) {
	n := roundHalfEven(v)
	if !n.IsInt64() {
		return 0, ErrOverflow
	}
	return n.Int64(), nil
}

func roundRat(v *big.Rat, scale int) *big.Rat {
	f := pow10Rat(scale)
	n := roundHalfEven(new(big.Rat).Mul(v, f))
	return new(big.Rat).SetFrac(n, f.Num())
}

func roundHalfEven(v *big.Rat) *big.Int {
	num, den := v.Num(), v.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int)) // truncated toward zero
	twice := new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2))
	switch twice.Cmp(den) {
	case 1:
		q.Add(q, big.NewInt(int64(v.Sign())))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(int64(v.Sign())))
		}
	}
	return q
}

func pow10Rat(e int) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(e))), nil)
	if e < 0 {
		return new(big.Rat).SetFrac(big.NewInt(1), p)
	}
	return new(big.Rat).SetInt(p)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// Format writes amount minor units with exp decimals ("12.34"), for documents.
func Format(amount int64, exp int) string {
	if exp <= 0 {
		return fmt.Sprint(amount)
	}
	sign := ""
	u := uint64(amount)
	if amount < 0 {
		sign, u = "-", uint64(-(amount+1))+1
	}
	p := uint64(math.Pow10(exp))
	return fmt.Sprintf("%s%d.%0*d", sign, u/p, exp, u%p)
}

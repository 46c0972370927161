package service

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/billgate/billgate/pkg/money"
)

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

// Currency is an ISO 4217 currency. Exponent is the number of minor-unit
// decimals (JPY 0, USD 2, BHD 3). Exactly one currency is the base.
type Currency struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Exponent  int       `json:"exponent"`
	IsBase    bool      `json:"is_base"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Rate is an exact decimal exchange rate, a string on the wire ("1.0842"); a
// JSON number is accepted on input and read digit for digit, never as a float.
type Rate struct{ money.Rate }

// UnmarshalJSON reads "1.0842" or 1.0842.
func (r *Rate) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := money.ParseRate(s)
	if err != nil {
		return errString("must be a positive decimal such as \"1.0842\"")
	}
	r.Rate = v
	return nil
}

// MarshalJSON writes the rate as a decimal string.
func (r Rate) MarshalJSON() ([]byte, error) { return []byte(`"` + r.String() + `"`), nil }

// TypeDescription names the wire type in errors and documents.
func (Rate) TypeDescription() string { return "a decimal string" }

// ExchangeRate is the rate of one currency in another from EffectiveFrom on.
type ExchangeRate struct {
	ID            int64     `json:"id"`
	From          string    `json:"from"`
	To            string    `json:"to"`
	Rate          Rate      `json:"rate"`
	EffectiveFrom time.Time `json:"effective_from"`
	// Reverse marks the 1/rate row stored alongside a created rate.
	Reverse   bool      `json:"reverse"`
	CreatedAt time.Time `json:"created_at"`
}

// CurrencySearch are the params of accounting.currencies.search.
type CurrencySearch struct {
	ListParams
	Code   Strings `json:"code" filter:"code"`
	IsBase *bool   `json:"is_base" filter:"is_base"`
}

var currencyList = ListSpec{Sort: []string{"code", "name", "exponent", "created_at"}, Search: []string{"code", "name"}}

// CodeParams address one currency.
type CodeParams struct {
	Code string `json:"code" required:"true"`
}

// CurrencyCreate are the params of accounting.currencies.create.
type CurrencyCreate struct {
	Code     string `json:"code" required:"true" doc:"ISO 4217, 3 letters"`
	Name     string `json:"name" required:"true"`
	Exponent *int   `json:"exponent" required:"true" doc:"minor-unit decimals, 0 to 4"`
	IsBase   bool   `json:"is_base"`
}

// Validate checks the code, name and exponent.
func (p *CurrencyCreate) Validate() error {
	v := Validation{}
	p.Code = strings.ToUpper(p.Code)
	v.Check(currencyRe.MatchString(p.Code), "code", "must be a 3-letter ISO 4217 code")
	v.Check(strings.TrimSpace(p.Name) != "" && len(p.Name) <= 100, "name", "must be 1 to 100 characters")
	v.Check(p.Exponent != nil && *p.Exponent >= 0 && *p.Exponent <= 4, "exponent", "must be 0 to 4")
	return v.Err()
}

// CurrencyUpdate are the params of accounting.currencies.update. The exponent
// never changes: amounts already stored depend on it.
type CurrencyUpdate struct {
	Code   string  `json:"code" required:"true"`
	Name   *string `json:"name"`
	IsBase *bool   `json:"is_base" doc:"true makes this the base currency (the previous base stops being it)"`
}

// Validate checks the name.
func (p *CurrencyUpdate) Validate() error {
	p.Code = strings.ToUpper(p.Code)
	if p.Name != nil && (strings.TrimSpace(*p.Name) == "" || len(*p.Name) > 100) {
		return InvalidField("name", "must be 1 to 100 characters")
	}
	if p.IsBase != nil && !*p.IsBase {
		return InvalidField("is_base", "make another currency the base instead")
	}
	return nil
}

// RateSearch are the params of accounting.currencies.rates.search.
type RateSearch struct {
	ListParams
	From Strings `json:"from" filter:"from"`
	To   Strings `json:"to" filter:"to"`
}

var rateList = ListSpec{Sort: []string{"effective_from", "id", "created_at"}, Search: []string{"from", "to"}}

// RateCreate are the params of accounting.currencies.rates.create.
type RateCreate struct {
	From          string `json:"from" required:"true"`
	To            string `json:"to" required:"true"`
	Rate          Rate   `json:"rate" required:"true" doc:"units of to per unit of from, a decimal string"`
	EffectiveFrom *Time  `json:"effective_from" doc:"default: now"`
}

// Validate checks the pair.
func (p *RateCreate) Validate() error {
	v := Validation{}
	p.From, p.To = strings.ToUpper(p.From), strings.ToUpper(p.To)
	v.Check(currencyRe.MatchString(p.From), "from", "must be a 3-letter ISO 4217 code")
	v.Check(currencyRe.MatchString(p.To), "to", "must be a 3-letter ISO 4217 code")
	v.Check(p.From != p.To, "to", "must differ from from")
	return v.Err()
}

// GetRateParams are the params of accounting.currencies.get_rate.
type GetRateParams struct {
	From string `json:"from" required:"true"`
	To   string `json:"to" required:"true"`
	At   *Time  `json:"at" doc:"default: now"`
}

// Validate upper-cases the codes.
func (p *GetRateParams) Validate() error {
	p.From, p.To = strings.ToUpper(p.From), strings.ToUpper(p.To)
	v := Validation{}
	v.Check(currencyRe.MatchString(p.From), "from", "must be a 3-letter ISO 4217 code")
	v.Check(currencyRe.MatchString(p.To), "to", "must be a 3-letter ISO 4217 code")
	return v.Err()
}

// RateQuote is the answer of get_rate: the rate in force and the stored rates
// it was made from (one direct rate, or two through the base currency).
type RateQuote struct {
	From          string          `json:"from"`
	To            string          `json:"to"`
	Rate          Rate            `json:"rate"`
	EffectiveFrom time.Time       `json:"effective_from"`
	Via           *string         `json:"via" doc:"the base currency, for a cross rate"`
	Rates         []*ExchangeRate `json:"rates" doc:"the stored rates used"`
}

// requireGlobalWriter refuses changes to global data (currencies, rates) from
// reseller-limited or test-mode callers: those data are shared by every
// reseller and by live mode.
func requireGlobalWriter(ctx context.Context) error {
	p := PrincipalFrom(ctx)
	if p == nil || p.Restricted() || !p.Live {
		return Errorf(CodeForbidden, "currencies and exchange rates are shared by every reseller and mode: only an unrestricted live key may change them")
	}
	return nil
}

func (s *Service) registerCurrencies() {
	r := s.registry
	Register(r, Decl[CurrencySearch, *Page[*Currency]]{
		Name: "accounting.currencies.search", Summary: "List currencies.", HTTP: Route{Verb: "GET", Path: "/accounting/currencies"},
		Do: func(ctx context.Context, p *CurrencySearch) (*Page[*Currency], error) {
			q, err := BuildQuery(currencyList, p.FilterParams, &p.ListParams, p)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchCurrencies(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[CodeParams, *Currency]{
		Name: "accounting.currencies.get", Summary: "Get a currency.", HTTP: Route{Verb: "GET", Path: "/accounting/currencies/:code"},
		Do: func(ctx context.Context, p *CodeParams) (*Currency, error) {
			return s.store.FindCurrency(ctx, strings.ToUpper(p.Code))
		},
	})
	Register(r, Decl[CurrencyCreate, *Currency]{
		Name: "accounting.currencies.create", Summary: "Add a currency.",
		HTTP: Route{Verb: "POST", Path: "/accounting/currencies", Created: true}, Idempotent: true,
		Do: func(ctx context.Context, p *CurrencyCreate) (*Currency, error) {
			if err := requireGlobalWriter(ctx); err != nil {
				return nil, err
			}
			c := &Currency{Code: p.Code, Name: strings.TrimSpace(p.Name), Exponent: *p.Exponent, IsBase: p.IsBase}
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				if err := s.store.CreateCurrency(ctx, c); err != nil {
					return err
				}
				return s.audit(ctx, "currency", c.Code, "create", nil, map[string]any{"object": c})
			})
			return c, err
		},
	})
	Register(r, Decl[CurrencyUpdate, *Currency]{
		Name: "accounting.currencies.update", Summary: "Rename a currency or make it the base.",
		HTTP: Route{Verb: "PATCH", Path: "/accounting/currencies/:code"}, Do: s.updateCurrency,
	})
	Register(r, Decl[CodeParams, *Deleted]{
		Name: "accounting.currencies.delete", Summary: "Delete an unused currency.",
		HTTP: Route{Verb: "DELETE", Path: "/accounting/currencies/:code"},
		Do: func(ctx context.Context, p *CodeParams) (*Deleted, error) {
			if err := requireGlobalWriter(ctx); err != nil {
				return nil, err
			}
			code := strings.ToUpper(p.Code)
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				c, err := s.store.FindCurrency(ctx, code)
				if err != nil {
					return err
				}
				if c.IsBase {
					return Unprocessable("base_currency", "cannot delete the base currency %s", code)
				}
				if err := s.store.DeleteCurrency(ctx, code); err != nil {
					return err
				}
				return s.audit(ctx, "currency", code, "delete", nil, map[string]any{"object": c})
			})
			if err != nil {
				return nil, err
			}
			return &Deleted{ID: code, Deleted: true}, nil
		},
	})
	Register(r, Decl[RateSearch, *Page[*ExchangeRate]]{
		Name: "accounting.currencies.rates.search", Summary: "List exchange rates.",
		HTTP: Route{Verb: "GET", Path: "/accounting/currencies/rates"},
		Do: func(ctx context.Context, p *RateSearch) (*Page[*ExchangeRate], error) {
			q, err := BuildQuery(rateList, p.FilterParams, &p.ListParams, p)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchRates(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[RateCreate, *ExchangeRate]{
		Name: "accounting.currencies.rates.create", Summary: "Store an exchange rate and its reverse (1/rate).",
		HTTP: Route{Verb: "POST", Path: "/accounting/currencies/rates", Created: true}, Idempotent: true,
		Do: s.createRate,
	})
	Register(r, Decl[GetRateParams, *RateQuote]{
		Name: "accounting.currencies.get_rate", Summary: "The exchange rate in force at a time, through the base currency when there is no direct rate.",
		HTTP: Route{Verb: "GET", Path: "/accounting/currencies/exchange-rate"},
		Do: func(ctx context.Context, p *GetRateParams) (*RateQuote, error) {
			at := s.clock.Now()
			if p.At != nil {
				at = p.At.UTC()
			}
			return s.quote(ctx, p.From, p.To, at)
		},
	})
}

func (s *Service) updateCurrency(ctx context.Context, p *CurrencyUpdate) (*Currency, error) {
	if err := requireGlobalWriter(ctx); err != nil {
		return nil, err
	}
	var out *Currency
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.FindCurrency(ctx, p.Code)
		if err != nil {
			return err
		}
		changes := map[string]any{}
		var fields []string
		if p.Name != nil && *p.Name != c.Name {
			changes["name"] = Change{From: c.Name, To: *p.Name}
			c.Name, fields = strings.TrimSpace(*p.Name), append(fields, "name")
		}
		if p.IsBase != nil && *p.IsBase && !c.IsBase {
			changes["is_base"] = Change{From: false, To: true}
			c.IsBase, fields = true, append(fields, "is_base")
		}
		out = c
		if len(fields) == 0 {
			return nil
		}
		if err := s.store.UpdateCurrency(ctx, c, fields); err != nil {
			return err
		}
		return s.audit(ctx, "currency", c.Code, "update", nil, changes)
	})
	return out, err
}

func (s *Service) createRate(ctx context.Context, p *RateCreate) (*ExchangeRate, error) {
	if err := requireGlobalWriter(ctx); err != nil {
		return nil, err
	}
	at := s.clock.Now()
	if p.EffectiveFrom != nil {
		at = p.EffectiveFrom.UTC()
	}
	direct := &ExchangeRate{From: p.From, To: p.To, Rate: p.Rate, EffectiveFrom: at}
	reverse := &ExchangeRate{From: p.To, To: p.From, Rate: Rate{p.Rate.Inverse()}, EffectiveFrom: at, Reverse: true}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		for _, code := range []string{p.From, p.To} {
			if _, err := s.store.FindCurrency(ctx, code); err != nil {
				if CodeOf(err) == CodeNotFound {
					return InvalidField(map[bool]string{true: "from", false: "to"}[code == p.From], "unknown currency "+code)
				}
				return err
			}
		}
		if err := s.store.CreateRate(ctx, direct); err != nil {
			return err
		}
		if err := s.store.CreateRate(ctx, reverse); err != nil {
			return err
		}
		return s.audit(ctx, "exchange_rate", direct.ID, "create", nil, map[string]any{"object": direct, "reverse": reverse})
	})
	if err != nil {
		return nil, err
	}
	return direct, nil
}

// quote finds the rate from→to in force at: a stored direct rate, else the
// cross rate through the base currency (rounded once to money.RateScale places).
func (s *Service) quote(ctx context.Context, from, to string, at time.Time) (*RateQuote, error) {
	for _, c := range []string{from, to} {
		if _, err := s.store.FindCurrency(ctx, c); err != nil {
			return nil, err
		}
	}
	if from == to {
		return &RateQuote{From: from, To: to, Rate: Rate{money.MustRate("1")}, EffectiveFrom: at, Rates: []*ExchangeRate{}}, nil
	}
	direct, err := s.store.RateAt(ctx, from, to, at)
	if err == nil {
		return &RateQuote{From: from, To: to, Rate: direct.Rate, EffectiveFrom: direct.EffectiveFrom, Rates: []*ExchangeRate{direct}}, nil
	}
	if CodeOf(err) != CodeNotFound {
		return nil, err
	}
	noRate := NotFound("exchange rate", from+"→"+to+" at "+at.Format(time.RFC3339))
	base, err := s.store.BaseCurrency(ctx)
	if err != nil {
		return nil, err
	}
	if base.Code == from || base.Code == to {
		return nil, noRate
	}
	a, err := s.store.RateAt(ctx, from, base.Code, at)
	if err != nil {
		if CodeOf(err) == CodeNotFound {
			return nil, noRate
		}
		return nil, err
	}
	b, err := s.store.RateAt(ctx, base.Code, to, at)
	if err != nil {
		if CodeOf(err) == CodeNotFound {
			return nil, noRate
		}
		return nil, err
	}
	eff := a.EffectiveFrom
	if b.EffectiveFrom.After(eff) {
		eff = b.EffectiveFrom
	}
	via := base.Code
	return &RateQuote{From: from, To: to, Rate: Rate{a.Rate.Mul(b.Rate.Rate)}, EffectiveFrom: eff, Via: &via, Rates: []*ExchangeRate{a, b}}, nil
}

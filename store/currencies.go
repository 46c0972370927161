package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/billgate/billgate/pkg/money"
	"github.com/billgate/billgate/service"
)

// currencyRow is a row of currencies.
type currencyRow struct {
	Code      string    `gorm:"column:code;primaryKey"`
	Name      string    `gorm:"column:name"`
	Exponent  int       `gorm:"column:exponent"`
	IsBase    bool      `gorm:"column:is_base"`
	CreatedAt time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of currencyRow.
func (currencyRow) TableName() string { return "currencies" }

// currenciesTable: currencies are global (every reseller and mode shares them),
// addressed by code. "id" maps to code too: lists always end their order with id.
var currenciesTable = &table{
	name: "currencies", noun: "currency", key: "code",
	scope: scopeSpec{noReseller: true},
	fields: map[string]string{
		"id": "code", "code": "code", "name": "name", "exponent": "exponent", "is_base": "is_base",
		"created_at": "created_at", "updated_at": "updated_at",
	},
}

// currencyWritable maps the fields UpdateCurrency may write (the exponent never
// changes: stored amounts depend on it).
var currencyWritable = map[string]string{"name": "name", "is_base": "is_base"}

func (r *currencyRow) toService() *service.Currency {
	return &service.Currency{
		Code: r.Code, Name: r.Name, Exponent: r.Exponent, IsBase: r.IsBase,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// FindCurrency returns the currency with that code. Global, but a Principal is
// still required (fail closed). Errors: CodeNotFound, CodeUnavailable,
// CodeInternal.
func (s *Store) FindCurrency(ctx context.Context, code string) (*service.Currency, error) {
	row, err := findRow[currencyRow](ctx, s.conn(ctx), currenciesTable, code)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// BaseCurrency returns the base currency. Errors: CodeNotFound (none is set),
// CodeUnavailable, CodeInternal.
func (s *Store) BaseCurrency(ctx context.Context) (*service.Currency, error) {
	db, err := scoped(ctx, s.conn(ctx), currenciesTable)
	if err != nil {
		return nil, err
	}
	var row currencyRow
	if err := db.Where("currencies.is_base = ?", true).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, &service.Error{Code: service.CodeNotFound, Message: "no base currency is set", Err: err}
		}
		return nil, translate(ctx, err, about("base currency", nil))
	}
	return row.toService(), nil
}

// SearchCurrencies lists the currencies matching q (up to q.Limit+1). Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) SearchCurrencies(ctx context.Context, q service.Query) ([]*service.Currency, error) {
	rows, err := searchRows[currencyRow](ctx, s.conn(ctx), currenciesTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Currency, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CreateCurrency stores c and sets its timestamps (now, when zero). A new base
// currency (IsBase) takes over from the previous one in the same transaction.
// Errors: CodeConflict (code taken: Fields["code"]), CodeUnavailable,
// CodeInternal.
func (s *Store) CreateCurrency(ctx context.Context, c *service.Currency) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := principal(ctx); err != nil {
			return err
		}
		if c.IsBase {
			if err := s.clearBase(ctx, c.Code); err != nil {
				return err
			}
		}
		row := currencyRow{Code: c.Code, Name: c.Name, Exponent: c.Exponent, IsBase: c.IsBase, CreatedAt: dbTime(c.CreatedAt)}
		row.UpdatedAt = row.CreatedAt
		if !c.UpdatedAt.IsZero() {
			row.UpdatedAt = dbTime(c.UpdatedAt)
		}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("currency", nil))
		}
		*c = *row.toService()
		return nil
	})
}

// UpdateCurrency writes the named json fields of c ("name", "is_base") and
// updated_at (now). is_base=true clears the previous base first, in the same
// transaction, so exactly one currency stays the base. Errors: CodeNotFound,
// CodeUnavailable, CodeInternal.
func (s *Store) UpdateCurrency(ctx context.Context, c *service.Currency, fields []string) error {
	cols, err := columnsOf(currenciesTable, currencyWritable, fields)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := principal(ctx); err != nil {
			return err
		}
		if c.IsBase && slices.Contains(fields, "is_base") {
			if err := s.clearBase(ctx, c.Code); err != nil {
				return err
			}
		}
		row := currencyRow{Code: c.Code, Name: c.Name, IsBase: c.IsBase, UpdatedAt: now()}
		if err := updateRow(ctx, s.wconn(ctx), currenciesTable, c.Code, &row, cols); err != nil {
			return err
		}
		c.UpdatedAt = row.UpdatedAt
		return nil
	})
}

// baseCurrencyLock is the PostgreSQL advisory lock key that serialises changes
// of the base currency ("billgate" in ASCII, then 1).
const baseCurrencyLock int64 = 0x62696c6c67617401

// clearBase makes every currency but code stop being the base. Call it inside
// InTx. On PostgreSQL a transaction-scoped advisory lock first serialises
// concurrent base changes: without it, two transactions each clearing the old
// base and setting their own would collide on the one-base index (read
// committed: the second's clear does not see the first's new base). SQLite
// transactions are serialised already.
func (s *Store) clearBase(ctx context.Context, code string) error {
	db := s.wconn(ctx)
	if s.dialect == DialectPostgres {
		if err := db.Exec("SELECT pg_advisory_xact_lock(?)", baseCurrencyLock).Error; err != nil {
			return translate(ctx, err, about("currency", code))
		}
	}
	err := db.Table(currenciesTable.name).Where("is_base = ? AND code <> ?", true, code).
		Updates(map[string]any{"is_base": false, "updated_at": now()}).Error
	if err != nil {
		return translate(ctx, err, about("currency", code))
	}
	return nil
}

// DeleteCurrency deletes the currency with that code. Errors: CodeNotFound,
// CodeConflict ("currency X is still used by clients or exchange rates"),
// CodeUnavailable, CodeInternal.
func (s *Store) DeleteCurrency(ctx context.Context, code string) error {
	err := deleteRow[currencyRow](ctx, s.wconn(ctx), currenciesTable, code, about("currency", code))
	if e := (*service.Error)(nil); errors.As(err, &e) && e.Code == service.CodeConflict {
		return &service.Error{Code: service.CodeConflict, Err: e.Err,
			Message: fmt.Sprintf("currency %s is still used by clients or exchange rates", code)}
	}
	return err
}

// rateRow is a row of exchange_rates.
type rateRow struct {
	ID            int64     `gorm:"column:id;primaryKey"`
	From          string    `gorm:"column:from_code"`
	To            string    `gorm:"column:to_code"`
	Rate          string    `gorm:"column:rate"`
	EffectiveFrom time.Time `gorm:"column:effective_from"`
	Reverse       bool      `gorm:"column:reverse"`
	CreatedAt     time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

// TableName tells gorm the table of rateRow.
func (rateRow) TableName() string { return "exchange_rates" }

// ratesTable: exchange rates are global, like currencies.
var ratesTable = &table{
	name: "exchange_rates", noun: "exchange rate",
	scope: scopeSpec{noReseller: true},
	fields: map[string]string{
		"id": "id", "from": "from_code", "to": "to_code", "effective_from": "effective_from",
		"reverse": "reverse", "created_at": "created_at",
	},
}

// toService parses the stored decimal; a row that does not parse is corrupt
// (CodeInternal).
func (r *rateRow) toService() (*service.ExchangeRate, error) {
	rate, err := money.ParseRate(r.Rate)
	if err != nil {
		return nil, service.Internal(fmt.Errorf("exchange rate %d: %w", r.ID, err))
	}
	return &service.ExchangeRate{
		ID: r.ID, From: r.From, To: r.To, Rate: service.Rate{Rate: rate},
		EffectiveFrom: r.EffectiveFrom.UTC(), Reverse: r.Reverse, CreatedAt: r.CreatedAt.UTC(),
	}, nil
}

// SearchRates lists the exchange rates matching q (up to q.Limit+1). Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) SearchRates(ctx context.Context, q service.Query) ([]*service.ExchangeRate, error) {
	rows, err := searchRows[rateRow](ctx, s.conn(ctx), ratesTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.ExchangeRate, len(rows))
	for i := range rows {
		if out[i], err = rows[i].toService(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CreateRate stores r (its rate as an exact decimal string) and sets its ID and
// CreatedAt (now, when zero). Errors: CodeConflict (a rate for the same pair and
// effective_from exists: Fields["effective_from"]; or an unknown currency),
// CodeInvalidParams (no rate), CodeUnavailable, CodeInternal.
func (s *Store) CreateRate(ctx context.Context, r *service.ExchangeRate) error {
	if r.Rate.IsZero() {
		return service.InvalidField("rate", "must be a positive decimal")
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := principal(ctx); err != nil {
			return err
		}
		row := rateRow{From: r.From, To: r.To, Rate: r.Rate.String(), EffectiveFrom: dbTime(r.EffectiveFrom),
			Reverse: r.Reverse, CreatedAt: dbTime(r.CreatedAt)}
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			if kind, _ := classify(err); kind == errUnique && ctx.Err() == nil {
				return &service.Error{Code: service.CodeConflict, Err: err,
					Message: fmt.Sprintf("an exchange rate %s→%s effective from %s already exists",
						row.From, row.To, row.EffectiveFrom.Format(time.RFC3339Nano)),
					Fields: map[string]string{"effective_from": "already taken for this pair"}}
			}
			return translate(ctx, err, about("exchange rate", nil))
		}
		out, err := row.toService()
		if err != nil {
			return err
		}
		*r = *out
		return nil
	})
}

// RateAt returns the stored from→to rate with the latest effective_from ≤ at.
// Errors: CodeNotFound (no such rate), CodeUnavailable, CodeInternal.
func (s *Store) RateAt(ctx context.Context, from, to string, at time.Time) (*service.ExchangeRate, error) {
	db, err := scoped(ctx, s.conn(ctx), ratesTable)
	if err != nil {
		return nil, err
	}
	at = dbTime(at)
	var row rateRow
	err = db.Where("exchange_rates.from_code = ? AND exchange_rates.to_code = ? AND exchange_rates.effective_from <= ?", from, to, at).
		Order("exchange_rates.effective_from DESC").Take(&row).Error
	if err != nil {
		return nil, translate(ctx, err, about("exchange rate", from+"→"+to+" at "+at.Format(time.RFC3339Nano)))
	}
	return row.toService()
}

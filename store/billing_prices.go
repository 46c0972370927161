package store

import (
	"context"
	"time"

	"github.com/billgate/billgate/service"
)

// priceRow is a row of billing_prices.
type priceRow struct {
	ID                int64     `gorm:"column:id;primaryKey"`
	ProductsID        int64     `gorm:"column:products_id"`
	Amount            int64     `gorm:"column:amount"`
	Currency          string    `gorm:"column:currency"`
	Recurring         bool      `gorm:"column:recurring"`
	Schedule          string    `gorm:"column:schedule"`
	IncludingTax      bool      `gorm:"column:including_tax"`
	Public            bool      `gorm:"column:public"`
	UsageMetric       string    `gorm:"column:usage_metric"`
	ExternalReference string    `gorm:"column:external_reference"`
	LiveMode          bool      `gorm:"column:live_mode"`
	CreatedAt         time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt         time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of priceRow.
func (priceRow) TableName() string { return "billing_prices" }

// pricesTable: prices are scoped through their product (reseller and mode)
// and carry the product's mode.
var pricesTable = &table{
	name: "billing_prices", noun: "price",
	scope: scopeSpec{through: &parentRef{column: "products_id", parent: productsTable}, liveMode: true},
	fields: map[string]string{
		"id": "id", "products_id": "products_id", "amount": "amount", "currency": "currency", "recurring": "recurring",
		"schedule": "schedule", "public": "public", "usage_metric": "usage_metric",
		"external_reference": "external_reference", "created_at": "created_at", "updated_at": "updated_at",
	},
}

// priceWritable: amount, currency and schedule never change (invoices depend on them).
var priceWritable = map[string]string{"public": "public", "external_reference": "external_reference"}

func priceRowOf(p *service.Price) priceRow {
	return priceRow{ID: p.ID, ProductsID: p.ProductsID, Amount: p.Amount, Currency: p.Currency, Recurring: p.Recurring,
		Schedule: p.Schedule, IncludingTax: p.IncludingTax, Public: p.Public, UsageMetric: p.UsageMetric,
		ExternalReference: p.ExternalReference, LiveMode: p.LiveMode, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (r *priceRow) toService() *service.Price {
	return &service.Price{ID: r.ID, ProductsID: r.ProductsID, Amount: r.Amount, Currency: r.Currency, Recurring: r.Recurring,
		Schedule: r.Schedule, IncludingTax: r.IncludingTax, Public: r.Public, UsageMetric: r.UsageMetric,
		ExternalReference: r.ExternalReference, LiveMode: r.LiveMode, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// FindPrice returns price id if the principal may see its product. Errors:
// CodeNotFound (missing or out of scope), CodeUnavailable, CodeInternal.
func (s *Store) FindPrice(ctx context.Context, id int64) (*service.Price, error) {
	row, err := findRow[priceRow](ctx, s.conn(ctx), pricesTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SearchPrices lists the prices in scope matching q (up to q.Limit+1).
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchPrices(ctx context.Context, q service.Query) ([]*service.Price, error) {
	rows, err := searchRows[priceRow](ctx, s.conn(ctx), pricesTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Price, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CountPrices counts the prices in scope matching q. Errors: CodeUnavailable,
// CodeInternal.
func (s *Store) CountPrices(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), pricesTable, q)
}

// CreatePrice stores p for a product in the principal's scope, in its mode,
// and sets its ID, LiveMode and timestamps. Errors: CodeNotFound (product
// missing or out of scope), CodeConflict (unknown currency), CodeUnavailable,
// CodeInternal.
func (s *Store) CreatePrice(ctx context.Context, p *service.Price) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if _, err := s.FindProduct(ctx, p.ProductsID); err != nil {
			return err
		}
		row := priceRowOf(p)
		row.ID, row.LiveMode = 0, pr.Live
		row.CreatedAt = dbTime(p.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("price", nil))
		}
		*p = *row.toService()
		return nil
	})
}

// UpdatePrice writes the named json fields of p (public, external_reference)
// and updated_at. Errors: CodeNotFound, CodeUnavailable, CodeInternal (any
// other field).
func (s *Store) UpdatePrice(ctx context.Context, p *service.Price, fields []string) error {
	cols, err := columnsOf(pricesTable, priceWritable, fields)
	if err != nil {
		return err
	}
	row := priceRowOf(p)
	row.UpdatedAt = now()
	if err := updateRow(ctx, s.wconn(ctx), pricesTable, p.ID, &row, cols); err != nil {
		return err
	}
	p.UpdatedAt = row.UpdatedAt
	return nil
}

// DeletePrice deletes price id if the principal may see it. Errors:
// CodeNotFound, CodeConflict (a plan, subscription or invoice line uses it),
// CodeUnavailable, CodeInternal.
func (s *Store) DeletePrice(ctx context.Context, id int64) error {
	return deleteRow[priceRow](ctx, s.wconn(ctx), pricesTable, id,
		subject{what: "price", id: id, owns: "plans, subscriptions or invoice lines"})
}

package store

import (
	"context"
	"time"

	"github.com/billgate/billgate/service"
)

// productRow is a row of billing_products.
type productRow struct {
	ID                int64     `gorm:"column:id;primaryKey"`
	ResellersID       *int64    `gorm:"column:resellers_id"`
	Name              string    `gorm:"column:name"`
	ExternalReference string    `gorm:"column:external_reference"`
	TaxType           string    `gorm:"column:tax_type"`
	LiveMode          bool      `gorm:"column:live_mode"`
	CreatedAt         time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt         time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName tells gorm the table of productRow.
func (productRow) TableName() string { return "billing_products" }

// productsTable: products belong to a reseller (NULL: the root) and a mode.
var productsTable = &table{
	name: "billing_products", noun: "product",
	scope: scopeSpec{resellerColumn: "resellers_id", liveMode: true},
	fields: map[string]string{
		"id": "id", "name": "name", "resellers_id": "resellers_id", "tax_type": "tax_type",
		"external_reference": "external_reference", "created_at": "created_at", "updated_at": "updated_at",
	},
}

var productWritable = map[string]string{"name": "name", "external_reference": "external_reference", "tax_type": "tax_type"}

func productRowOf(p *service.Product) productRow {
	return productRow{ID: p.ID, ResellersID: p.ResellersID, Name: p.Name, ExternalReference: p.ExternalReference,
		TaxType: p.TaxType, LiveMode: p.LiveMode, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (r *productRow) toService() *service.Product {
	return &service.Product{ID: r.ID, ResellersID: r.ResellersID, Name: r.Name, ExternalReference: r.ExternalReference,
		TaxType: r.TaxType, LiveMode: r.LiveMode, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// FindProduct returns product id from the principal's scope. Errors:
// CodeNotFound (missing or out of scope), CodeUnavailable, CodeInternal.
func (s *Store) FindProduct(ctx context.Context, id int64) (*service.Product, error) {
	row, err := findRow[productRow](ctx, s.conn(ctx), productsTable, id)
	if err != nil {
		return nil, err
	}
	return row.toService(), nil
}

// SearchProducts lists the products in scope matching q (up to q.Limit+1).
// Errors: CodeUnavailable, CodeInternal.
func (s *Store) SearchProducts(ctx context.Context, q service.Query) ([]*service.Product, error) {
	rows, err := searchRows[productRow](ctx, s.conn(ctx), productsTable, q)
	if err != nil {
		return nil, err
	}
	out := make([]*service.Product, len(rows))
	for i := range rows {
		out[i] = rows[i].toService()
	}
	return out, nil
}

// CountProducts counts the products in scope matching q. Errors:
// CodeUnavailable, CodeInternal.
func (s *Store) CountProducts(ctx context.Context, q service.Query) (int64, error) {
	return countRows(ctx, s.conn(ctx), productsTable, q)
}

// CreateProduct stores p under p.ResellersID in the principal's mode and sets
// its ID, LiveMode and timestamps. Errors: CodeNotFound (reseller out of
// scope; the root for a restricted principal), CodeUnavailable, CodeInternal.
func (s *Store) CreateProduct(ctx context.Context, p *service.Product) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		pr, err := principal(ctx)
		if err != nil {
			return err
		}
		if err := s.checkOwner(ctx, p.ResellersID); err != nil {
			return err
		}
		row := productRowOf(p)
		row.ID, row.LiveMode = 0, pr.Live
		row.CreatedAt = dbTime(p.CreatedAt)
		row.UpdatedAt = row.CreatedAt
		if err := s.wconn(ctx).Create(&row).Error; err != nil {
			return translate(ctx, err, about("product", nil))
		}
		*p = *row.toService()
		return nil
	})
}

// UpdateProduct writes the named json fields of p and updated_at. Errors:
// CodeNotFound, CodeUnavailable, CodeInternal (a field that cannot be written).
func (s *Store) UpdateProduct(ctx context.Context, p *service.Product, fields []string) error {
	cols, err := columnsOf(productsTable, productWritable, fields)
	if err != nil {
		return err
	}
	row := productRowOf(p)
	row.UpdatedAt = now()
	if err := updateRow(ctx, s.wconn(ctx), productsTable, p.ID, &row, cols); err != nil {
		return err
	}
	p.UpdatedAt = row.UpdatedAt
	return nil
}

// DeleteProduct deletes product id from the principal's scope. Errors:
// CodeNotFound, CodeConflict (it still has prices or plans), CodeUnavailable,
// CodeInternal.
func (s *Store) DeleteProduct(ctx context.Context, id int64) error {
	return deleteRow[productRow](ctx, s.wconn(ctx), productsTable, id,
		subject{what: "product", id: id, owns: "prices or plans"})
}

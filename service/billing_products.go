package service

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Tax types of a product: which of the client's tax rates its lines bear.
const (
	TaxStandard = "standard"
	TaxDigital  = "digital"
)

var taxTypes = []string{TaxStandard, TaxDigital}

// Product is a thing sold (seed 002): its prices and plans hang under it.
type Product struct {
	ID                int64     `json:"id"`
	ResellersID       *int64    `json:"resellers_id"`
	Name              string    `json:"name"`
	ExternalReference string    `json:"external_reference" doc:"the payment provider's reference"`
	TaxType           string    `json:"tax_type" enum:"standard,digital" doc:"which of the client's tax rates applies"`
	LiveMode          bool      `json:"live_mode"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// ProductFilter are the typed filters of billing.products.search and .count.
type ProductFilter struct {
	ID          IDs     `json:"id" filter:"id"`
	ResellersID IDs     `json:"resellers_id" filter:"resellers_id"`
	TaxType     Strings `json:"tax_type" filter:"tax_type"`
}

// ProductSearch are the params of billing.products.search.
type ProductSearch struct {
	ListParams
	ProductFilter
}

// ProductCount are the params of billing.products.count.
type ProductCount struct {
	FilterParams
	ProductFilter
}

var productList = ListSpec{Sort: []string{"id", "name", "created_at", "updated_at"}, Search: []string{"name", "external_reference"}}

// ProductCreate are the params of billing.products.create.
type ProductCreate struct {
	Name              string `json:"name" required:"true"`
	ResellersID       *int64 `json:"resellers_id" doc:"default: the caller's reseller (root for unrestricted callers)"`
	ExternalReference string `json:"external_reference"`
	TaxType           string `json:"tax_type" enum:"standard,digital" doc:"default standard"`
}

// Validate checks the new product's fields.
func (p *ProductCreate) Validate() error {
	if p.TaxType == "" {
		p.TaxType = TaxStandard
	}
	v := Validation{}
	checkProduct(v, &p.Name, &p.ExternalReference, &p.TaxType)
	return v.Err()
}

// ProductUpdate are the params of billing.products.update.
type ProductUpdate struct {
	ID                int64   `json:"id" required:"true"`
	Name              *string `json:"name"`
	ExternalReference *string `json:"external_reference"`
	TaxType           *string `json:"tax_type" enum:"standard,digital"`
}

// Validate checks the fields sent.
func (p *ProductUpdate) Validate() error {
	v := Validation{}
	checkProduct(v, p.Name, p.ExternalReference, p.TaxType)
	return v.Err()
}

func checkProduct(v Validation, name, ref, taxType *string) {
	if name != nil {
		v.Check(strings.TrimSpace(*name) != "" && len(*name) <= 200, "name", "must be 1 to 200 characters")
	}
	if ref != nil {
		v.Check(len(*ref) <= 200, "external_reference", "must be at most 200 characters")
	}
	if taxType != nil {
		v.Check(slices.Contains(taxTypes, *taxType), "tax_type", "must be standard or digital")
	}
}

func (s *Service) registerProducts() {
	r := s.registry
	Register(r, Decl[ProductSearch, *Page[*Product]]{
		Name: "billing.products.search", Summary: "List products.", HTTP: Route{Verb: "GET", Path: "/billing/products"},
		Do: func(ctx context.Context, p *ProductSearch) (*Page[*Product], error) {
			q, err := BuildQuery(productList, p.FilterParams, &p.ListParams, &p.ProductFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchProducts(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[ProductCount, *Count]{
		Name: "billing.products.count", Summary: "Count products.", HTTP: Route{Verb: "GET", Path: "/billing/products/count"},
		Do: func(ctx context.Context, p *ProductCount) (*Count, error) {
			q, err := BuildQuery(productList, p.FilterParams, nil, &p.ProductFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountProducts(ctx, q)
			return &Count{Count: n}, err
		},
	})
	Register(r, Decl[IDParams, *Product]{
		Name: "billing.products.get", Summary: "Get a product.", HTTP: Route{Verb: "GET", Path: "/billing/products/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Product, error) { return s.store.FindProduct(ctx, p.ID) },
	})
	Register(r, Decl[ProductCreate, *Product]{
		Name: "billing.products.create", Summary: "Create a product.",
		HTTP: Route{Verb: "POST", Path: "/billing/products", Created: true}, Idempotent: true,
		Do: func(ctx context.Context, p *ProductCreate) (*Product, error) {
			rid, err := s.ownerReseller(ctx, p.ResellersID)
			if err != nil {
				return nil, err
			}
			prod := &Product{ResellersID: rid, Name: strings.TrimSpace(p.Name), ExternalReference: p.ExternalReference,
				TaxType: p.TaxType, LiveMode: PrincipalFrom(ctx).Live}
			err = s.store.InTx(ctx, func(ctx context.Context) error {
				if err := s.store.CreateProduct(ctx, prod); err != nil {
					return err
				}
				return s.audit(ctx, "product", prod.ID, "create", prod.ResellersID, map[string]any{"object": prod})
			})
			return prod, err
		},
	})
	Register(r, Decl[ProductUpdate, *Product]{
		Name: "billing.products.update", Summary: "Change a product's name, reference or tax type.",
		HTTP: Route{Verb: "PATCH", Path: "/billing/products/:id"}, Do: s.updateProduct,
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "billing.products.delete", Summary: "Delete a product without prices or plans.",
		HTTP: Route{Verb: "DELETE", Path: "/billing/products/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Deleted, error) {
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				prod, err := s.store.FindProduct(ctx, p.ID)
				if err != nil {
					return err
				}
				if err := s.store.DeleteProduct(ctx, prod.ID); err != nil {
					return err
				}
				return s.audit(ctx, "product", prod.ID, "delete", prod.ResellersID, map[string]any{"object": prod})
			})
			if err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}

func (s *Service) updateProduct(ctx context.Context, p *ProductUpdate) (*Product, error) {
	var out *Product
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		prod, err := s.store.FindProduct(ctx, p.ID)
		if err != nil {
			return err
		}
		ch := newChanges()
		if p.Name != nil {
			ch.set("name", prod.Name, strings.TrimSpace(*p.Name), func() { prod.Name = strings.TrimSpace(*p.Name) })
		}
		if p.ExternalReference != nil {
			ch.set("external_reference", prod.ExternalReference, *p.ExternalReference, func() { prod.ExternalReference = *p.ExternalReference })
		}
		if p.TaxType != nil {
			ch.set("tax_type", prod.TaxType, *p.TaxType, func() { prod.TaxType = *p.TaxType })
		}
		out = prod
		if len(ch.fields) == 0 {
			return nil
		}
		if err := s.store.UpdateProduct(ctx, prod, ch.fields); err != nil {
			return err
		}
		return s.audit(ctx, "product", prod.ID, "update", prod.ResellersID, ch.changes)
	})
	return out, err
}

// changes collects the fields an update writes and their before/after for the audit.
type changes struct {
	fields  []string
	changes map[string]any
}

func newChanges() *changes { return &changes{changes: map[string]any{}} }

// set applies a change of one field when from differs from to.
func (c *changes) set(name string, from, to any, apply func()) {
	if from == to {
		return
	}
	apply()
	c.fields = append(c.fields, name)
	c.changes[name] = Change{From: from, To: to}
}

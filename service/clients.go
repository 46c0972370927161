package service

import (
	"context"
	"encoding/json"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Client statuses.
const (
	ClientActive    = "active"
	ClientSuspended = "suspended"
	ClientArchived  = "archived"
)

var (
	clientStatuses = []string{ClientActive, ClientSuspended, ClientArchived}
	e164Re         = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
)

// Client is a customer of the platform, with a balance kept by the ledger.
type Client struct {
	ID          int64          `json:"id"`
	Name        string         `json:"name"`
	Status      string         `json:"status" enum:"active,suspended,archived"`
	ResellersID *int64         `json:"resellers_id"`
	Currency    string         `json:"currency" doc:"ISO 4217 code of the balance"`
	Credit      int64          `json:"credit" doc:"credit limit in minor units: how far below zero the balance may go"`
	Balance     int64          `json:"balance" doc:"read-only, minor units; changed only by ledger transactions"`
	Email       string         `json:"email"`
	Company     string         `json:"company"`
	Phone       string         `json:"phone" doc:"E.164"`
	TaxNumber   string         `json:"tax_number"`
	Metadata    map[string]any `json:"metadata"`
	ClientBillingSettings
	LiveMode  bool      `json:"live_mode"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ClientFilter are the typed filters of clients.search and clients.count.
type ClientFilter struct {
	ID          IDs     `json:"id" filter:"id"`
	Status      Strings `json:"status" filter:"status"`
	ResellersID IDs     `json:"resellers_id" filter:"resellers_id"`
	Currency    Strings `json:"currency" filter:"currency"`
	Email       Strings `json:"email" filter:"email"`
}

// ClientSearch are the params of clients.search.
type ClientSearch struct {
	ListParams
	ClientFilter
}

// ClientCount are the params of clients.count.
type ClientCount struct {
	FilterParams
	ClientFilter
}

var clientList = ListSpec{
	Sort:   []string{"id", "name", "created_at", "updated_at", "balance", "credit", "status"},
	Search: []string{"name", "email", "company", "phone", "tax_number"},
}

// ClientCreate are the params of clients.create.
type ClientCreate struct {
	Name        string         `json:"name" required:"true"`
	Status      string         `json:"status" enum:"active,suspended,archived" doc:"default active"`
	ResellersID *int64         `json:"resellers_id" doc:"default: the caller's reseller (root for unrestricted callers)"`
	Currency    string         `json:"currency" doc:"default: the base currency"`
	Credit      int64          `json:"credit"`
	Email       string         `json:"email"`
	Company     string         `json:"company"`
	Phone       string         `json:"phone"`
	TaxNumber   string         `json:"tax_number"`
	Metadata    map[string]any `json:"metadata"`
	ClientBillingSettings
}

// Validate checks the new client's fields.
func (p *ClientCreate) Validate() error {
	v := Validation{}
	if p.Status == "" {
		p.Status = ClientActive
	}
	p.Currency = strings.ToUpper(p.Currency)
	checkClient(v, &p.Name, &p.Status, &p.Currency, &p.Credit, &p.Email, &p.Phone, &p.TaxNumber, &p.Company, p.Metadata)
	p.ClientBillingSettings.check(v)
	return v.Err()
}

// ClientUpdate are the params of clients.update: only the fields sent change.
type ClientUpdate struct {
	ID          int64          `json:"id" required:"true"`
	Name        *string        `json:"name"`
	Status      *string        `json:"status" enum:"active,suspended,archived"`
	ResellersID *int64         `json:"resellers_id"`
	Currency    *string        `json:"currency" doc:"only while the client has no ledger entries"`
	Credit      *int64         `json:"credit"`
	Email       *string        `json:"email"`
	Company     *string        `json:"company"`
	Phone       *string        `json:"phone"`
	TaxNumber   *string        `json:"tax_number"`
	Metadata    map[string]any `json:"metadata" doc:"replaces the metadata object"`
	ClientBillingUpdate
}

// Validate checks the fields sent.
func (p *ClientUpdate) Validate() error {
	v := Validation{}
	if p.Currency != nil {
		up := strings.ToUpper(*p.Currency)
		p.Currency = &up
	}
	checkClient(v, p.Name, p.Status, p.Currency, p.Credit, p.Email, p.Phone, p.TaxNumber, p.Company, p.Metadata)
	p.ClientBillingUpdate.check(v)
	return v.Err()
}

func checkClient(v Validation, name, status, currency *string, credit *int64, email, phone, taxNumber, company *string, meta map[string]any) {
	if name != nil {
		v.Check(strings.TrimSpace(*name) != "" && len(*name) <= 200, "name", "must be 1 to 200 characters")
	}
	if status != nil {
		v.Check(slices.Contains(clientStatuses, *status), "status", "must be one of active, suspended, archived")
	}
	if currency != nil && *currency != "" {
		v.Check(currencyRe.MatchString(*currency), "currency", "must be a 3-letter ISO 4217 code")
	}
	if credit != nil {
		v.Check(*credit >= 0, "credit", "must not be negative")
	}
	if email != nil && *email != "" {
		a, err := mail.ParseAddress(*email)
		v.Check(err == nil && a.Address == *email && len(*email) <= 254, "email", "must be an email address")
	}
	if phone != nil && *phone != "" {
		v.Check(e164Re.MatchString(*phone), "phone", "must be in E.164 format, e.g. +14155550123")
	}
	if taxNumber != nil {
		v.Check(len(*taxNumber) <= 64, "tax_number", "must be at most 64 characters")
	}
	if company != nil {
		v.Check(len(*company) <= 200, "company", "must be at most 200 characters")
	}
	checkMetadata(v, meta)
}

// checkMetadata bounds a metadata object: at most 50 keys, 16 KiB of JSON and
// maxMetadataDepth levels of nesting.
func checkMetadata(v Validation, meta map[string]any) {
	if meta == nil {
		return
	}
	b, _ := json.Marshal(meta)
	v.Check(len(meta) <= 50 && len(b) <= 16<<10, "metadata", "must have at most 50 keys and 16 KiB")
	v.Check(jsonDepth(meta, 0) <= maxMetadataDepth, "metadata", "must nest at most 32 levels deep")
}

// maxMetadataDepth bounds the nesting of metadata: the databases' JSON
// functions have their own limits (SQLite's json_valid stops at 1000 levels).
const maxMetadataDepth = 32

// jsonDepth returns the nesting depth of a decoded JSON value (an object or
// array is one level more than its deepest member), stopping early once past
// maxMetadataDepth.
func jsonDepth(v any, depth int) int {
	if depth > maxMetadataDepth {
		return depth
	}
	deepest := depth
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			deepest = max(deepest, jsonDepth(e, depth+1))
		}
	case []any:
		for _, e := range x {
			deepest = max(deepest, jsonDepth(e, depth+1))
		}
	}
	return deepest
}

func (s *Service) registerClients() {
	r := s.registry
	Register(r, Decl[ClientSearch, *Page[*Client]]{
		Name: "clients.search", Summary: "List clients.", HTTP: Route{Verb: "GET", Path: "/clients"},
		Do: func(ctx context.Context, p *ClientSearch) (*Page[*Client], error) {
			q, err := BuildQuery(clientList, p.FilterParams, &p.ListParams, &p.ClientFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchClients(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[ClientCount, *Count]{
		Name: "clients.count", Summary: "Count clients.", HTTP: Route{Verb: "GET", Path: "/clients/count"},
		Do: func(ctx context.Context, p *ClientCount) (*Count, error) {
			q, err := BuildQuery(clientList, p.FilterParams, nil, &p.ClientFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountClients(ctx, q)
			return &Count{Count: n}, err
		},
	})
	Register(r, Decl[IDParams, *Client]{
		Name: "clients.get", Summary: "Get a client.", HTTP: Route{Verb: "GET", Path: "/clients/:id"},
		Do:   func(ctx context.Context, p *IDParams) (*Client, error) { return s.store.FindClient(ctx, p.ID) },
		Many: s.getClients,
	})
	Register(r, Decl[ClientCreate, *Client]{
		Name: "clients.create", Summary: "Create a client.", HTTP: Route{Verb: "POST", Path: "/clients", Created: true},
		Idempotent: true, Do: s.createClient,
	})
	Register(r, Decl[ClientUpdate, *Client]{
		Name: "clients.update", Summary: "Change a client's fields (credit limit, status, contact data…).",
		HTTP: Route{Verb: "PATCH", Path: "/clients/:id"}, Do: s.updateClient,
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "clients.delete", Summary: "Delete a client without ledger entries (archive it otherwise).",
		HTTP: Route{Verb: "DELETE", Path: "/clients/:id"}, Do: s.deleteClient,
	})
}

func (s *Service) createClient(ctx context.Context, p *ClientCreate) (*Client, error) {
	rid, err := s.ownerReseller(ctx, p.ResellersID)
	if err != nil {
		return nil, err
	}
	cur, err := s.currencyOrBase(ctx, p.Currency)
	if err != nil {
		return nil, err
	}
	c := &Client{Name: strings.TrimSpace(p.Name), Status: p.Status, ResellersID: rid, Currency: cur.Code, Credit: p.Credit,
		Email: p.Email, Company: p.Company, Phone: p.Phone, TaxNumber: p.TaxNumber, Metadata: p.Metadata,
		ClientBillingSettings: p.ClientBillingSettings, LiveMode: PrincipalFrom(ctx).Live}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateClient(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, "client", c.ID, "create", c.ResellersID, map[string]any{"object": c})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// currencyOrBase returns the currency code asked for (which must exist) or the base currency.
func (s *Service) currencyOrBase(ctx context.Context, code string) (*Currency, error) {
	if code == "" {
		return s.store.BaseCurrency(ctx)
	}
	c, err := s.store.FindCurrency(ctx, code)
	if CodeOf(err) == CodeNotFound {
		return nil, InvalidField("currency", "unknown currency "+code)
	}
	return c, err
}

func (s *Service) updateClient(ctx context.Context, p *ClientUpdate) (*Client, error) {
	var out *Client
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.FindClient(ctx, p.ID)
		if err != nil {
			return err
		}
		changes := map[string]any{}
		var fields []string
		set := func(name string, from, to any, apply func()) {
			if from == to {
				return
			}
			apply()
			fields = append(fields, name)
			changes[name] = Change{From: from, To: to}
		}
		if p.Name != nil {
			set("name", c.Name, strings.TrimSpace(*p.Name), func() { c.Name = strings.TrimSpace(*p.Name) })
		}
		if p.Status != nil {
			set("status", c.Status, *p.Status, func() { c.Status = *p.Status })
		}
		if p.ResellersID != nil && (c.ResellersID == nil || *c.ResellersID != *p.ResellersID) {
			if _, err := s.store.FindReseller(ctx, *p.ResellersID); err != nil {
				return err
			}
			changes["resellers_id"] = Change{From: c.ResellersID, To: *p.ResellersID}
			c.ResellersID = p.ResellersID
			fields = append(fields, "resellers_id")
		}
		if p.Currency != nil && *p.Currency != c.Currency {
			if _, err := s.currencyOrBase(ctx, *p.Currency); err != nil {
				return err
			}
			n, err := s.store.CountTransactions(ctx, Query{Filters: []Filter{{Field: "clients_id", Values: []any{c.ID}}}})
			if err != nil {
				return err
			}
			if n > 0 {
				return Unprocessable("currency_locked", "client %d has ledger entries: its currency cannot change", c.ID)
			}
			set("currency", c.Currency, *p.Currency, func() { c.Currency = *p.Currency })
		}
		if p.Credit != nil {
			set("credit", c.Credit, *p.Credit, func() { c.Credit = *p.Credit })
		}
		if p.Email != nil {
			set("email", c.Email, *p.Email, func() { c.Email = *p.Email })
		}
		if p.Company != nil {
			set("company", c.Company, *p.Company, func() { c.Company = *p.Company })
		}
		if p.Phone != nil {
			set("phone", c.Phone, *p.Phone, func() { c.Phone = *p.Phone })
		}
		if p.TaxNumber != nil {
			set("tax_number", c.TaxNumber, *p.TaxNumber, func() { c.TaxNumber = *p.TaxNumber })
		}
		if p.Metadata != nil {
			changes["metadata"] = Change{From: c.Metadata, To: p.Metadata}
			c.Metadata = p.Metadata
			fields = append(fields, "metadata")
		}
		p.ClientBillingUpdate.apply(&c.ClientBillingSettings, set)
		out = c
		if len(fields) == 0 {
			return nil
		}
		if err := s.store.UpdateClient(ctx, c, fields); err != nil {
			return err
		}
		return s.audit(ctx, "client", c.ID, "update", c.ResellersID, changes)
	})
	return out, err
}

func (s *Service) deleteClient(ctx context.Context, p *IDParams) (*Deleted, error) {
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.FindClient(ctx, p.ID)
		if err != nil {
			return err
		}
		n, err := s.store.CountTransactions(ctx, Query{Filters: []Filter{{Field: "clients_id", Values: []any{c.ID}}}})
		if err != nil {
			return err
		}
		if n > 0 {
			return Unprocessable("has_transactions", "client %d has ledger entries: set its status to archived instead", c.ID)
		}
		if n, err = s.store.CountSubscriptions(ctx, Query{Filters: []Filter{{Field: "clients_id", Values: []any{c.ID}}}}); err != nil {
			return err
		}
		if n > 0 {
			return Unprocessable("has_subscriptions", "client %d has subscriptions: set its status to archived instead", c.ID)
		}
		if err := s.store.DeleteClient(ctx, c.ID); err != nil {
			return err
		}
		return s.audit(ctx, "client", c.ID, "delete", c.ResellersID, map[string]any{"object": c})
	})
	if err != nil {
		return nil, err
	}
	return &Deleted{ID: p.ID, Deleted: true}, nil
}

// getClients is clients.get for the calls of a batch: one query for all of them.
func (s *Service) getClients(ctx context.Context, ps []*IDParams) ([]*Client, []error) {
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	errs := make([]error, len(ps))
	found, err := s.store.FindClients(ctx, ids)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return make([]*Client, len(ps)), errs
	}
	for i, c := range found {
		if c == nil {
			errs[i] = NotFound("client", ids[i])
		}
	}
	return found, errs
}

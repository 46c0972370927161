package service

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Account statuses.
var accountStatuses = []string{ClientActive, ClientSuspended, ClientArchived}

// Account is a client's service account (a login, a line, a trunk…), scoped
// through its client.
type Account struct {
	ID        int64          `json:"id"`
	ClientsID int64          `json:"clients_id"`
	Name      string         `json:"name"`
	Status    string         `json:"status" enum:"active,suspended,archived"`
	IPs       []string       `json:"ips" doc:"CIDRs"`
	Metadata  map[string]any `json:"metadata"`
	LiveMode  bool           `json:"live_mode"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// AccountFilter are the typed filters of clients.accounts.search and .count.
type AccountFilter struct {
	ID        IDs     `json:"id" filter:"id"`
	ClientsID IDs     `json:"clients_id" filter:"clients_id"`
	Status    Strings `json:"status" filter:"status"`
}

// AccountSearch are the params of clients.accounts.search.
type AccountSearch struct {
	ListParams
	AccountFilter
}

// AccountCount are the params of clients.accounts.count.
type AccountCount struct {
	FilterParams
	AccountFilter
}

var accountList = ListSpec{Sort: []string{"id", "name", "created_at", "updated_at", "status"}, Search: []string{"name"}}

// AccountCreate are the params of clients.accounts.create.
type AccountCreate struct {
	ClientsID int64          `json:"clients_id" required:"true"`
	Name      string         `json:"name" required:"true"`
	Status    string         `json:"status" enum:"active,suspended,archived" doc:"default active"`
	IPs       []string       `json:"ips"`
	Metadata  map[string]any `json:"metadata"`
}

// Validate checks the new account's fields.
func (p *AccountCreate) Validate() error {
	v := Validation{}
	if p.Status == "" {
		p.Status = ClientActive
	}
	checkAccount(v, &p.Name, &p.Status, p.IPs, p.Metadata)
	return v.Err()
}

// AccountUpdate are the params of clients.accounts.update.
type AccountUpdate struct {
	ID       int64          `json:"id" required:"true"`
	Name     *string        `json:"name"`
	Status   *string        `json:"status" enum:"active,suspended,archived"`
	IPs      *[]string      `json:"ips"`
	Metadata map[string]any `json:"metadata" doc:"replaces the metadata object"`
}

// Validate checks the fields sent.
func (p *AccountUpdate) Validate() error {
	v := Validation{}
	var ips []string
	if p.IPs != nil {
		ips = *p.IPs
	}
	checkAccount(v, p.Name, p.Status, ips, p.Metadata)
	return v.Err()
}

func checkAccount(v Validation, name, status *string, ips []string, meta map[string]any) {
	if name != nil {
		v.Check(strings.TrimSpace(*name) != "" && len(*name) <= 200, "name", "must be 1 to 200 characters")
	}
	if status != nil {
		v.Check(slices.Contains(accountStatuses, *status), "status", "must be one of active, suspended, archived")
	}
	v.Check(len(ips) <= 100, "ips", "must have at most 100 entries")
	for i, ip := range ips {
		if _, err := ParseCIDR(ip); err != nil {
			v.Add("ips", "item "+strconv.Itoa(i)+" ("+truncate(ip, 50)+") is not an IP address or CIDR")
		}
	}
	checkMetadata(v, meta)
}

func (s *Service) registerAccounts() {
	r := s.registry
	Register(r, Decl[AccountSearch, *Page[*Account]]{
		Name: "clients.accounts.search", Summary: "List client accounts.", HTTP: Route{Verb: "GET", Path: "/clients/accounts"},
		Do: func(ctx context.Context, p *AccountSearch) (*Page[*Account], error) {
			q, err := BuildQuery(accountList, p.FilterParams, &p.ListParams, &p.AccountFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchAccounts(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[AccountCount, *Count]{
		Name: "clients.accounts.count", Summary: "Count client accounts.", HTTP: Route{Verb: "GET", Path: "/clients/accounts/count"},
		Do: func(ctx context.Context, p *AccountCount) (*Count, error) {
			q, err := BuildQuery(accountList, p.FilterParams, nil, &p.AccountFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountAccounts(ctx, q)
			return &Count{Count: n}, err
		},
	})
	Register(r, Decl[IDParams, *Account]{
		Name: "clients.accounts.get", Summary: "Get a client account.", HTTP: Route{Verb: "GET", Path: "/clients/accounts/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Account, error) { return s.store.FindAccount(ctx, p.ID) },
	})
	Register(r, Decl[AccountCreate, *Account]{
		Name: "clients.accounts.create", Summary: "Create an account for a client.",
		HTTP: Route{Verb: "POST", Path: "/clients/accounts", Created: true}, Idempotent: true,
		Do: func(ctx context.Context, p *AccountCreate) (*Account, error) {
			var a *Account
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				c, err := s.store.FindClient(ctx, p.ClientsID)
				if err != nil {
					return err
				}
				a = &Account{ClientsID: c.ID, Name: strings.TrimSpace(p.Name), Status: p.Status, IPs: canonicalCIDRs(p.IPs),
					Metadata: p.Metadata, LiveMode: c.LiveMode}
				if err := s.store.CreateAccount(ctx, a); err != nil {
					return err
				}
				return s.audit(ctx, "account", a.ID, "create", c.ResellersID, map[string]any{"object": a})
			})
			return a, err
		},
	})
	Register(r, Decl[AccountUpdate, *Account]{
		Name: "clients.accounts.update", Summary: "Change a client account's fields.",
		HTTP: Route{Verb: "PATCH", Path: "/clients/accounts/:id"}, Do: s.updateAccount,
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "clients.accounts.delete", Summary: "Delete a client account.",
		HTTP: Route{Verb: "DELETE", Path: "/clients/accounts/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Deleted, error) {
			err := s.store.InTx(ctx, func(ctx context.Context) error {
				a, err := s.store.FindAccount(ctx, p.ID)
				if err != nil {
					return err
				}
				c, err := s.store.FindClient(ctx, a.ClientsID)
				if err != nil {
					return err
				}
				if err := s.store.DeleteAccount(ctx, a.ID); err != nil {
					return err
				}
				return s.audit(ctx, "account", a.ID, "delete", c.ResellersID, map[string]any{"object": a})
			})
			if err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}

func (s *Service) updateAccount(ctx context.Context, p *AccountUpdate) (*Account, error) {
	var out *Account
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		a, err := s.store.FindAccount(ctx, p.ID)
		if err != nil {
			return err
		}
		c, err := s.store.FindClient(ctx, a.ClientsID)
		if err != nil {
			return err
		}
		changes := map[string]any{}
		var fields []string
		if p.Name != nil && strings.TrimSpace(*p.Name) != a.Name {
			changes["name"] = Change{From: a.Name, To: strings.TrimSpace(*p.Name)}
			a.Name = strings.TrimSpace(*p.Name)
			fields = append(fields, "name")
		}
		if p.Status != nil && *p.Status != a.Status {
			changes["status"] = Change{From: a.Status, To: *p.Status}
			a.Status = *p.Status
			fields = append(fields, "status")
		}
		if p.IPs != nil {
			ips := canonicalCIDRs(*p.IPs)
			changes["ips"] = Change{From: a.IPs, To: ips}
			a.IPs = ips
			fields = append(fields, "ips")
		}
		if p.Metadata != nil {
			changes["metadata"] = Change{From: a.Metadata, To: p.Metadata}
			a.Metadata = p.Metadata
			fields = append(fields, "metadata")
		}
		out = a
		if len(fields) == 0 {
			return nil
		}
		if err := s.store.UpdateAccount(ctx, a, fields); err != nil {
			return err
		}
		return s.audit(ctx, "account", a.ID, "update", c.ResellersID, changes)
	})
	return out, err
}

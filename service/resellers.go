package service

import (
	"context"
	"strings"
	"time"
)

// Reseller is a node of the reseller tree. A user limited to a reseller sees the
// objects of that reseller and of its descendants.
type Reseller struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	ParentID  *int64    `json:"parent_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Path is the materialised path of ids from the root ("/1/5/"); kept by the store.
	Path string `json:"-"`
}

// ResellerFilter are the typed filters of resellers.search and resellers.count.
type ResellerFilter struct {
	ID       IDs `json:"id" filter:"id"`
	ParentID IDs `json:"parent_id" filter:"parent_id"`
}

// ResellerSearch are the params of resellers.search.
type ResellerSearch struct {
	ListParams
	ResellerFilter
}

// ResellerCount are the params of resellers.count.
type ResellerCount struct {
	FilterParams
	ResellerFilter
}

var resellerList = ListSpec{Sort: []string{"id", "name", "created_at", "updated_at"}, Search: []string{"name"}}

// ResellerCreate are the params of resellers.create.
type ResellerCreate struct {
	Name     string `json:"name" required:"true"`
	ParentID *int64 `json:"parent_id" doc:"default: the caller's reseller (root for unrestricted callers)"`
}

// Validate checks the name.
func (p *ResellerCreate) Validate() error { return checkName(p.Name) }

// ResellerUpdate are the params of resellers.update.
type ResellerUpdate struct {
	ID       int64   `json:"id" required:"true"`
	Name     *string `json:"name"`
	ParentID *int64  `json:"parent_id" doc:"moves the reseller and its subtree; 0 moves it to the root"`
}

// Validate checks the name.
func (p *ResellerUpdate) Validate() error {
	if p.Name != nil {
		return checkName(*p.Name)
	}
	return nil
}

func checkName(n string) error {
	if strings.TrimSpace(n) == "" || len(n) > 200 {
		return InvalidField("name", "must be 1 to 200 characters")
	}
	return nil
}

func (s *Service) registerResellers() {
	r := s.registry
	Register(r, Decl[ResellerSearch, *Page[*Reseller]]{
		Name: "resellers.search", Summary: "List resellers in the caller's subtree.", HTTP: Route{Verb: "GET", Path: "/resellers"},
		Do: func(ctx context.Context, p *ResellerSearch) (*Page[*Reseller], error) {
			q, err := BuildQuery(resellerList, p.FilterParams, &p.ListParams, &p.ResellerFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchResellers(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[ResellerCount, *Count]{
		Name: "resellers.count", Summary: "Count resellers.", HTTP: Route{Verb: "GET", Path: "/resellers/count"},
		Do: func(ctx context.Context, p *ResellerCount) (*Count, error) {
			q, err := BuildQuery(resellerList, p.FilterParams, nil, &p.ResellerFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountResellers(ctx, q)
			return &Count{Count: n}, err
		},
	})
	Register(r, Decl[IDParams, *Reseller]{
		Name: "resellers.get", Summary: "Get a reseller.", HTTP: Route{Verb: "GET", Path: "/resellers/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Reseller, error) { return s.store.FindReseller(ctx, p.ID) },
	})
	Register(r, Decl[ResellerCreate, *Reseller]{
		Name: "resellers.create", Summary: "Create a reseller.", HTTP: Route{Verb: "POST", Path: "/resellers", Created: true},
		Idempotent: true,
		Do: func(ctx context.Context, p *ResellerCreate) (*Reseller, error) {
			parent, err := s.ownerReseller(ctx, p.ParentID)
			if err != nil {
				return nil, err
			}
			res := &Reseller{Name: strings.TrimSpace(p.Name), ParentID: parent}
			if err := s.store.CreateReseller(ctx, res); err != nil {
				return nil, err
			}
			return res, nil
		},
	})
	Register(r, Decl[ResellerUpdate, *Reseller]{
		Name: "resellers.update", Summary: "Rename or move a reseller.", HTTP: Route{Verb: "PATCH", Path: "/resellers/:id"},
		Do: s.updateReseller,
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "resellers.delete", Summary: "Delete a reseller that owns nothing.", HTTP: Route{Verb: "DELETE", Path: "/resellers/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Deleted, error) {
			pr := PrincipalFrom(ctx)
			if pr.UserResellerID != nil && *pr.UserResellerID == p.ID {
				return nil, Unprocessable("own_reseller", "cannot delete the reseller you belong to")
			}
			if err := s.store.DeleteReseller(ctx, p.ID); err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}

func (s *Service) updateReseller(ctx context.Context, p *ResellerUpdate) (*Reseller, error) {
	res, err := s.store.FindReseller(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var fields []string
	if p.Name != nil {
		res.Name = strings.TrimSpace(*p.Name)
		fields = append(fields, "name")
	}
	if p.ParentID != nil {
		pr := PrincipalFrom(ctx)
		if pr.ResellerID != nil && *pr.ResellerID == res.ID {
			return nil, Unprocessable("scope_root", "cannot move the reseller at the root of your scope")
		}
		var parent *int64
		if *p.ParentID != 0 {
			par, err := s.store.FindReseller(ctx, *p.ParentID)
			if err != nil {
				return nil, err
			}
			if strings.HasPrefix(par.Path, res.Path) {
				return nil, Unprocessable("cycle", "cannot move reseller %d under itself or its descendant %d", res.ID, par.ID)
			}
			parent = &par.ID
		} else if pr.Restricted() {
			return nil, NotFound("reseller", 0)
		}
		res.ParentID = parent
		fields = append(fields, "parent_id")
	}
	if len(fields) == 0 {
		return res, nil
	}
	if err := s.store.UpdateReseller(ctx, res, fields); err != nil {
		return nil, err
	}
	return res, nil
}

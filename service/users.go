package service

import (
	"context"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/billgate/billgate/pkg/password"
	"github.com/billgate/billgate/pkg/tz"
)

// User statuses and roles. Roles do not restrict methods (seed 003); what a user
// sees is restricted by its reseller and its key's mode.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
	RoleAdmin    = "admin"
	RoleUser     = "user"
)

var (
	userStatuses = []string{UserActive, UserDisabled}
	userRoles    = []string{RoleAdmin, RoleUser}
	loginRe      = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,100}$`)
)

// User is a person or an integration that calls the API.
type User struct {
	ID          int64     `json:"id"`
	Login       string    `json:"login"`
	Role        string    `json:"role" enum:"admin,user"`
	ResellersID *int64    `json:"resellers_id"`
	Timezone    string    `json:"timezone" doc:"IANA zone for datetimes; empty: the server's"`
	AllowedIPs  []string  `json:"allowed_ips" doc:"CIDRs the user may call from; empty: anywhere"`
	Status      string    `json:"status" enum:"active,disabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// PasswordHash is the bcrypt hash; never sent.
	PasswordHash string `json:"-"`
	// ResellerPath is the materialised path of the user's reseller (set by UserForAuth).
	ResellerPath string `json:"-"`
}

// IDParams address one object.
type IDParams struct {
	ID int64 `json:"id" required:"true"`
}

// Deleted is the result of every delete method.
type Deleted struct {
	ID      any  `json:"id"`
	Deleted bool `json:"deleted"`
}

// UserFilter are the typed filters of iam.users.search and iam.users.count.
type UserFilter struct {
	ID          IDs     `json:"id" filter:"id"`
	Login       Strings `json:"login" filter:"login"`
	Role        Strings `json:"role" filter:"role"`
	Status      Strings `json:"status" filter:"status"`
	ResellersID IDs     `json:"resellers_id" filter:"resellers_id"`
}

// UserSearch are the params of iam.users.search.
type UserSearch struct {
	ListParams
	UserFilter
}

// UserCount are the params of iam.users.count.
type UserCount struct {
	FilterParams
	UserFilter
}

var userList = ListSpec{Sort: []string{"id", "login", "created_at", "updated_at"}, Search: []string{"login"}}

// UserCreate are the params of iam.users.create.
type UserCreate struct {
	Login       string   `json:"login" required:"true"`
	Password    string   `json:"password" required:"true" doc:"write-only; 8 to 72 characters"`
	Role        string   `json:"role" enum:"admin,user"`
	ResellersID *int64   `json:"resellers_id" doc:"default: the caller's reseller"`
	Timezone    string   `json:"timezone"`
	AllowedIPs  []string `json:"allowed_ips"`
	Status      string   `json:"status" enum:"active,disabled"`
}

// Validate checks the new user's fields.
func (p *UserCreate) Validate() error {
	v := Validation{}
	if p.Role == "" {
		p.Role = RoleUser
	}
	if p.Status == "" {
		p.Status = UserActive
	}
	checkUserFields(v, &p.Login, &p.Password, &p.Role, &p.Status, &p.Timezone, p.AllowedIPs)
	return v.Err()
}

// UserUpdate are the params of iam.users.update: only the fields sent change.
type UserUpdate struct {
	ID          int64     `json:"id" required:"true"`
	Login       *string   `json:"login"`
	Password    *string   `json:"password" doc:"write-only"`
	Role        *string   `json:"role" enum:"admin,user"`
	ResellersID *int64    `json:"resellers_id"`
	Timezone    *string   `json:"timezone"`
	AllowedIPs  *[]string `json:"allowed_ips"`
	Status      *string   `json:"status" enum:"active,disabled"`
}

// Validate checks the fields sent.
func (p *UserUpdate) Validate() error {
	v := Validation{}
	var ips []string
	if p.AllowedIPs != nil {
		ips = *p.AllowedIPs
	}
	checkUserFields(v, p.Login, p.Password, p.Role, p.Status, p.Timezone, ips)
	return v.Err()
}

func checkUserFields(v Validation, login, pw, role, status, zone *string, ips []string) {
	if login != nil {
		v.Check(loginRe.MatchString(*login), "login", "must be 1 to 100 letters, digits or ._@+-")
	}
	if pw != nil {
		v.Check(len(*pw) >= 8 && len(*pw) <= 72, "password", "must be 8 to 72 bytes")
	}
	if role != nil {
		v.Check(slices.Contains(userRoles, *role), "role", "must be one of admin, user")
	}
	if status != nil {
		v.Check(slices.Contains(userStatuses, *status), "status", "must be one of active, disabled")
	}
	if zone != nil && *zone != "" {
		_, err := tz.Load(*zone)
		v.Check(err == nil, "timezone", "unknown time zone (want an IANA name such as Europe/Berlin)")
	}
	for i, ip := range ips {
		if _, err := ParseCIDR(ip); err != nil {
			v.Add("allowed_ips", "item "+strconv.Itoa(i)+" is not an IP address or CIDR")
		}
	}
}

// ParseCIDR reads an IP address or CIDR, returning it as a canonical prefix.
func ParseCIDR(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func canonicalCIDRs(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if p, err := ParseCIDR(s); err == nil {
			out = append(out, p.String())
		}
	}
	return out
}

func (s *Service) registerUsers() {
	r := s.registry
	Register(r, Decl[UserSearch, *Page[*User]]{
		Name: "iam.users.search", Summary: "List users.", HTTP: Route{Verb: "GET", Path: "/iam/users"},
		Do: func(ctx context.Context, p *UserSearch) (*Page[*User], error) {
			q, err := BuildQuery(userList, p.FilterParams, &p.ListParams, &p.UserFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchUsers(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[UserCount, *Count]{
		Name: "iam.users.count", Summary: "Count users.", HTTP: Route{Verb: "GET", Path: "/iam/users/count"},
		Do: func(ctx context.Context, p *UserCount) (*Count, error) {
			q, err := BuildQuery(userList, p.FilterParams, nil, &p.UserFilter)
			if err != nil {
				return nil, err
			}
			n, err := s.store.CountUsers(ctx, q)
			return &Count{Count: n}, err
		},
	})
	Register(r, Decl[IDParams, *User]{
		Name: "iam.users.get", Summary: "Get a user.", HTTP: Route{Verb: "GET", Path: "/iam/users/:id"},
		Do: func(ctx context.Context, p *IDParams) (*User, error) { return s.store.FindUser(ctx, p.ID) },
	})
	Register(r, Decl[UserCreate, *User]{
		Name: "iam.users.create", Summary: "Create a user.", HTTP: Route{Verb: "POST", Path: "/iam/users", Created: true},
		// Not idempotent: a remembered request would keep a hash of the password
		// for 24 h. A repeat is refused by the unique login instead.
		Do: s.createUser,
	})
	Register(r, Decl[UserUpdate, *User]{
		Name: "iam.users.update", Summary: "Change a user's fields.", HTTP: Route{Verb: "PATCH", Path: "/iam/users/:id"},
		Do: s.updateUser,
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "iam.users.delete", Summary: "Delete a user and its API keys.", HTTP: Route{Verb: "DELETE", Path: "/iam/users/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Deleted, error) {
			if p.ID == PrincipalFrom(ctx).UserID {
				return nil, Unprocessable("self_delete", "cannot delete the user you are authenticated as")
			}
			if err := s.store.DeleteUser(ctx, p.ID); err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}

// ownerReseller decides the reseller a new object belongs to: the one asked for,
// which must be visible to the caller, or the caller's own scope root.
func (s *Service) ownerReseller(ctx context.Context, asked *int64) (*int64, error) {
	if asked == nil {
		return PrincipalFrom(ctx).ResellerID, nil
	}
	if _, err := s.store.FindReseller(ctx, *asked); err != nil {
		return nil, err
	}
	return asked, nil
}

func (s *Service) createUser(ctx context.Context, p *UserCreate) (*User, error) {
	rid, err := s.ownerReseller(ctx, p.ResellersID)
	if err != nil {
		return nil, err
	}
	hash, err := password.Hash(p.Password)
	if err != nil {
		return nil, InvalidField("password", err.Error())
	}
	u := &User{Login: p.Login, PasswordHash: hash, Role: p.Role, ResellersID: rid, Timezone: p.Timezone,
		AllowedIPs: canonicalCIDRs(p.AllowedIPs), Status: p.Status}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) updateUser(ctx context.Context, p *UserUpdate) (*User, error) {
	u, err := s.store.FindUser(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var fields []string
	set := func(name string, apply func()) { apply(); fields = append(fields, name) }
	if p.Login != nil {
		set("login", func() { u.Login = *p.Login })
	}
	if p.Password != nil {
		hash, err := password.Hash(*p.Password)
		if err != nil {
			return nil, InvalidField("password", err.Error())
		}
		set("password", func() { u.PasswordHash = hash })
	}
	if p.Role != nil {
		set("role", func() { u.Role = *p.Role })
	}
	if p.ResellersID != nil {
		if _, err := s.store.FindReseller(ctx, *p.ResellersID); err != nil {
			return nil, err
		}
		set("resellers_id", func() { u.ResellersID = p.ResellersID })
	}
	if p.Timezone != nil {
		set("timezone", func() { u.Timezone = *p.Timezone })
	}
	if p.AllowedIPs != nil {
		set("allowed_ips", func() { u.AllowedIPs = canonicalCIDRs(*p.AllowedIPs) })
	}
	if p.Status != nil {
		set("status", func() { u.Status = *p.Status })
	}
	if len(fields) == 0 {
		return u, nil
	}
	if err := s.store.UpdateUser(ctx, u, fields); err != nil {
		return nil, err
	}
	return u, nil
}

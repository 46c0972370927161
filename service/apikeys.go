package service

import (
	"context"
	"time"

	"github.com/billgate/billgate/pkg/secret"
)

// API key modes: the key's prefix sets the mode of every request made with it.
const (
	ModeLive = "live"
	ModeTest = "test"
)

// APIKey is a credential of a user. Only its hash is stored; Key holds the full
// secret once, in the reply to iam.api_keys.create.
type APIKey struct {
	ID         int64      `json:"id"`
	UsersID    int64      `json:"users_id"`
	Mode       string     `json:"mode" enum:"live,test"`
	Prefix     string     `json:"prefix" doc:"the key's first characters, to recognise it"`
	Key        string     `json:"key,omitempty" doc:"the full key, shown once when created"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	CreatedAt  time.Time  `json:"created_at"`
	// APIVersion is the API version the key's calls are served in (versions.go).
	APIVersion string `json:"api_version" doc:"the API version the key's calls are served in (X-Api-Version overrides it per request)"`
	// Hash is the SHA-256 of the key; never sent.
	Hash string `json:"-"`
}

// APIKeyFilter are the typed filters of iam.api_keys.search.
type APIKeyFilter struct {
	ID      IDs     `json:"id" filter:"id"`
	UsersID IDs     `json:"users_id" filter:"users_id"`
	Mode    Strings `json:"mode" filter:"mode"`
}

// APIKeySearch are the params of iam.api_keys.search.
type APIKeySearch struct {
	ListParams
	APIKeyFilter
}

var apiKeyList = ListSpec{Sort: []string{"id", "created_at", "expires_at", "last_used_at"}, Search: []string{"prefix"}}

// APIKeyCreate are the params of iam.api_keys.create.
type APIKeyCreate struct {
	UsersID   int64  `json:"users_id" required:"true"`
	Mode      string `json:"mode" enum:"live,test" doc:"default: the caller's mode"`
	ExpiresAt *Time  `json:"expires_at"`
	// APIVersion pins the key to an API version (system.versions).
	APIVersion string `json:"api_version" doc:"the API version to pin the key to; default: the latest"`
}

// APIKeyUpdate are the params of iam.api_keys.update: only the fields sent change.
type APIKeyUpdate struct {
	ID         int64   `json:"id" required:"true"`
	APIVersion *string `json:"api_version" doc:"the API version to pin the key to (system.versions)"`
	ExpiresAt  *Time   `json:"expires_at" doc:"a new expiry, in the future"`
}

// Validate checks the mode.
func (p *APIKeyCreate) Validate() error {
	v := Validation{}
	v.Check(p.Mode == "" || p.Mode == ModeLive || p.Mode == ModeTest, "mode", "must be live or test")
	return v.Err()
}

func (s *Service) registerAPIKeys() {
	r := s.registry
	Register(r, Decl[APIKeySearch, *Page[*APIKey]]{
		Name: "iam.api_keys.search", Summary: "List API keys (never their secrets).", HTTP: Route{Verb: "GET", Path: "/iam/api-keys"},
		Do: func(ctx context.Context, p *APIKeySearch) (*Page[*APIKey], error) {
			q, err := BuildQuery(apiKeyList, p.FilterParams, &p.ListParams, &p.APIKeyFilter)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchAPIKeys(ctx, q)
			return NewPage(rows, q), err
		},
	})
	Register(r, Decl[APIKeyCreate, *APIKey]{
		Name: "iam.api_keys.create", Summary: "Create an API key; the reply holds the key, shown this once.",
		// Not idempotent: a replay would store and show the secret again.
		HTTP: Route{Verb: "POST", Path: "/iam/api-keys", Created: true},
		Do:   s.createAPIKey,
	})
	Register(r, Decl[APIKeyUpdate, *APIKey]{
		Name: "iam.api_keys.update", Summary: "Change an API key: the API version it is pinned to, its expiry.",
		HTTP: Route{Verb: "PATCH", Path: "/iam/api-keys/:id"},
		Do:   s.updateAPIKey,
	})
	Register(r, Decl[IDParams, *Deleted]{
		Name: "iam.api_keys.delete", Summary: "Revoke an API key.", HTTP: Route{Verb: "DELETE", Path: "/iam/api-keys/:id"},
		Do: func(ctx context.Context, p *IDParams) (*Deleted, error) {
			if err := s.store.DeleteAPIKey(ctx, p.ID); err != nil {
				return nil, err
			}
			return &Deleted{ID: p.ID, Deleted: true}, nil
		},
	})
}

func (s *Service) createAPIKey(ctx context.Context, p *APIKeyCreate) (*APIKey, error) {
	pr := PrincipalFrom(ctx)
	mode := p.Mode
	if mode == "" {
		mode = modeOf(pr)
	}
	if mode == ModeLive && !pr.Live {
		return nil, &Error{Code: CodeForbidden, Message: "a test key cannot create live keys", Fields: map[string]string{"mode": "must be test"}}
	}
	if _, err := s.store.FindUser(ctx, p.UsersID); err != nil {
		return nil, err
	}
	if p.ExpiresAt != nil && !p.ExpiresAt.After(s.clock.Now()) {
		return nil, InvalidField("expires_at", "must be in the future")
	}
	if p.APIVersion != "" {
		if err := s.CheckAPIVersion("api_version", p.APIVersion); err != nil {
			return nil, err
		}
	}
	return s.storeAPIKey(ctx, p.UsersID, mode+"_"+secret.Random(32), p.ExpiresAt.In(), p.APIVersion)
}

func (s *Service) updateAPIKey(ctx context.Context, p *APIKeyUpdate) (*APIKey, error) {
	k, err := s.store.FindAPIKey(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var fields []string
	if p.APIVersion != nil {
		if err := s.CheckAPIVersion("api_version", *p.APIVersion); err != nil {
			return nil, err
		}
		k.APIVersion, fields = *p.APIVersion, append(fields, "api_version")
	}
	if p.ExpiresAt != nil {
		if !p.ExpiresAt.After(s.clock.Now()) {
			return nil, InvalidField("expires_at", "must be in the future")
		}
		k.ExpiresAt, fields = p.ExpiresAt.In(), append(fields, "expires_at")
	}
	if len(fields) == 0 {
		return k, nil
	}
	if err := s.store.UpdateAPIKey(ctx, k, fields); err != nil {
		return nil, err
	}
	return k, nil
}

// NewAPIKey creates and stores a key for user (in the principal's scope) and
// returns it with its secret. cmd uses it for the first-start admin key.
func (s *Service) NewAPIKey(ctx context.Context, usersID int64, mode string, expires *time.Time) (*APIKey, error) {
	return s.storeAPIKey(ctx, usersID, mode+"_"+secret.Random(32), expires, "")
}

// ImportAPIKey stores a key chosen by the operator (BILLGATE_ADMIN_API_KEY).
func (s *Service) ImportAPIKey(ctx context.Context, usersID int64, key string) (*APIKey, error) {
	if _, rest, ok := cutMode(key); !ok || len(rest) < 16 || len(key) > 128 {
		return nil, InvalidField("key", "must be live_ or test_ followed by at least 16 characters")
	}
	return s.storeAPIKey(ctx, usersID, key, nil, "")
}

// storeAPIKey stores key pinned to version ("": the latest).
func (s *Service) storeAPIKey(ctx context.Context, usersID int64, key string, expires *time.Time, version string) (*APIKey, error) {
	mode, _, _ := cutMode(key)
	if version == "" {
		version = s.versions.latest
	}
	k := &APIKey{UsersID: usersID, Mode: mode, Prefix: key[:min(len(key), 12)], Hash: secret.HashKey(key), ExpiresAt: expires, APIVersion: version}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	k.Key = key
	return k, nil
}

func cutMode(key string) (string, string, bool) {
	for _, m := range []string{ModeLive, ModeTest} {
		if len(key) > len(m) && key[:len(m)+1] == m+"_" {
			return m, key[len(m)+1:], true
		}
	}
	return "", key, false
}

func modeOf(p *Principal) string {
	if p.Live {
		return ModeLive
	}
	return ModeTest
}

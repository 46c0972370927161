package service

import (
	"context"
	"time"
)

// Store is the storage the service needs; store/ implements it with gorm.
//
// Scoping: every method not marked "unscoped" applies the Principal in ctx
// (reseller subtree, and live_mode on business objects) and fails closed when ctx
// carries none. An object outside the scope is reported as not found.
//
// Errors: *Error with CodeNotFound (missing or out of scope), CodeConflict
// (duplicate key, still referenced), CodeUnavailable (database down), or
// CodeInternal.
type Store interface {
	// InTx runs fn in one database transaction; store calls made with the ctx
	// passed to fn join it. Nested calls join the outer transaction.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error

	AuthStore
	UserStore
	APIKeyStore
	ResellerStore
	ClientStore
	AccountStore
	CurrencyStore
	TransactionStore
	IdempotencyStore
	AuditStore
	ProductStore
	PriceStore
	PlanStore
	SubscriptionStore
	InvoiceStore
	TestClockStore
	LifecycleIIStore
}

// AuthStore holds the unscoped lookups made before a Principal exists.
type AuthStore interface {
	// UserForAuth returns the user id (unscoped).
	UserForAuth(ctx context.Context, id int64) (*User, error)
	// UserByLogin returns the user with that login (unscoped).
	UserByLogin(ctx context.Context, login string) (*User, error)
	// APIKeyByHash returns the key with that hash (unscoped).
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	// TouchAPIKey sets a key's last_used_at (unscoped).
	TouchAPIKey(ctx context.Context, id int64, at time.Time) error
	// ResellerPath returns the materialised path of reseller id (unscoped).
	ResellerPath(ctx context.Context, id int64) (string, error)
	// Setting returns the stored value of key, first storing def when the key is
	// absent (so concurrent processes agree on one value).
	Setting(ctx context.Context, key, def string) (string, error)
	// CountUsersAll counts every user (unscoped; first-start bootstrap).
	CountUsersAll(ctx context.Context) (int64, error)
}

// UserStore keeps users, scoped by reseller subtree.
type UserStore interface {
	FindUser(ctx context.Context, id int64) (*User, error)
	// SearchUsers returns up to q.Limit+1 rows (the extra one says more follow).
	SearchUsers(ctx context.Context, q Query) ([]*User, error)
	CountUsers(ctx context.Context, q Query) (int64, error)
	// CreateUser stores u and sets its ID and timestamps.
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser writes the named fields of u (json names) and updated_at.
	UpdateUser(ctx context.Context, u *User, fields []string) error
	// DeleteUser deletes the user and its API keys.
	DeleteUser(ctx context.Context, id int64) error
}

// APIKeyStore keeps API keys, scoped through their user; a test-mode principal
// sees only test keys.
type APIKeyStore interface {
	FindAPIKey(ctx context.Context, id int64) (*APIKey, error)
	SearchAPIKeys(ctx context.Context, q Query) ([]*APIKey, error)
	CountAPIKeys(ctx context.Context, q Query) (int64, error)
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// UpdateAPIKey writes the named fields of k (json names: api_version, expires_at).
	UpdateAPIKey(ctx context.Context, k *APIKey, fields []string) error
	DeleteAPIKey(ctx context.Context, id int64) error
}

// ResellerStore keeps the reseller tree, scoped to the principal's subtree.
type ResellerStore interface {
	FindReseller(ctx context.Context, id int64) (*Reseller, error)
	SearchResellers(ctx context.Context, q Query) ([]*Reseller, error)
	CountResellers(ctx context.Context, q Query) (int64, error)
	// CreateReseller stores r and sets its ID, Path and timestamps.
	CreateReseller(ctx context.Context, r *Reseller) error
	// UpdateReseller writes the named fields; a new parent_id moves the subtree
	// (the paths of every descendant change with it).
	UpdateReseller(ctx context.Context, r *Reseller, fields []string) error
	// DeleteReseller refuses (conflict) a reseller that still owns objects or children.
	DeleteReseller(ctx context.Context, id int64) error
}

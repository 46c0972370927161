package service

import (
	"context"
	"strings"
	"sync"
	"time"
)

// authCache remembers recent API-key and user lookups for a short TTL, so a busy
// key does not cost two database round trips on every request. Safety:
//   - a change made through this process (any write of an iam.* or resellers.*
//     method: a key revoked, a user disabled, a reseller moved) clears the cache
//     at once;
//   - a change made through another process is seen within the TTL
//     (auth_cache_ttl, default 5 s; 0 turns the cache off);
//   - expiry (expires_at) and allowed_ips are checked on every request against
//     the cached rows, and failed lookups are never cached.
type authCache struct {
	ttl   time.Duration
	mu    sync.Mutex
	gen   uint64
	keys  map[string]cachedKey // by key hash
	users map[int64]cachedUser // by user id (JWT sessions)
}

type cachedKey struct {
	key  *APIKey
	user *User
	at   time.Time
}

type cachedUser struct {
	user *User
	at   time.Time
}

// maxAuthCache bounds the cache; past it, it starts afresh.
const maxAuthCache = 10000

func newAuthCache(ttl time.Duration) *authCache {
	return &authCache{ttl: ttl, keys: map[string]cachedKey{}, users: map[int64]cachedUser{}}
}

func (c *authCache) key(hash string, now time.Time) (*APIKey, *User, bool) {
	if c.ttl <= 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.keys[hash]
	if !ok || now.Sub(e.at) >= c.ttl {
		return nil, nil, false
	}
	k := *e.key // a copy: callers may not change the cached row
	return &k, e.user, true
}

// generation returns a token that putKey compares, so a lookup that raced with
// a clear is not cached.
func (c *authCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *authCache) putKey(gen uint64, hash string, k *APIKey, u *User, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.keys) >= maxAuthCache {
		c.keys = map[string]cachedKey{}
	}
	c.keys[hash] = cachedKey{key: k, user: u, at: now}
}

func (c *authCache) user(id int64, now time.Time) (*User, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.users[id]
	if !ok || now.Sub(e.at) >= c.ttl {
		return nil, false
	}
	return e.user, true
}

func (c *authCache) putUser(gen uint64, u *User, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.users) >= maxAuthCache {
		c.users = map[int64]cachedUser{}
	}
	c.users[u.ID] = cachedUser{user: u, at: now}
}

// touched records a key's new last_used_at in the cache.
func (c *authCache) touched(hash string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.keys[hash]; ok {
		k := *e.key
		k.LastUsedAt = &at
		e.key = &k
		c.keys[hash] = e
	}
}

func (c *authCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.keys = map[string]cachedKey{}
	c.users = map[int64]cachedUser{}
}

// affectsAuth reports whether a method can change what authentication decides:
// the writes of iam.* and resellers.* (keys, users, reseller paths).
func affectsAuth(m *Method) bool {
	return m.HTTP.Verb != "GET" && (strings.HasPrefix(m.Name, "iam.") || strings.HasPrefix(m.Name, "resellers."))
}

// invalidateAuth clears the auth cache after every call of a method that can
// change what authentication decides (successful or not: a failed write may
// still have committed before its reply was lost).
func (s *Service) invalidateAuth(next Handler) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		res, err := next(ctx, c)
		if affectsAuth(c.Method) {
			s.auth.clear()
		}
		return res, err
	}
}

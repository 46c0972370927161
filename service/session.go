package service

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Protocols a call can arrive by.
const (
	ProtoREST    = "rest"
	ProtoJSONRPC = "jsonrpc"
	ProtoWS      = "ws"
)

// Credentials are what an HTTP request presents; they are read in one place
// (CredentialsFromHTTP) for every transport.
type Credentials struct {
	APIKey         string // X-Api-Key, or the user name of Basic auth
	Bearer         string // Authorization: Bearer (deprecated JWT)
	RemoteIP       netip.Addr
	Reseller       string // X-Reseller
	IdempotencyKey string // Idempotency-Key header
	APIVersion     string // X-Api-Version: overrides the key's pinned API version
}

// CredentialsFromHTTP extracts credentials from r. Credentials in the URL are ignored.
func CredentialsFromHTTP(r *http.Request) Credentials {
	c := Credentials{
		APIKey:         strings.TrimSpace(r.Header.Get("X-Api-Key")),
		Reseller:       strings.TrimSpace(r.Header.Get("X-Reseller")),
		IdempotencyKey: strings.TrimSpace(r.Header.Get("Idempotency-Key")),
		APIVersion:     strings.TrimSpace(r.Header.Get(HeaderAPIVersion)),
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, rest, _ := strings.Cut(auth, " ")
		switch strings.ToLower(scheme) {
		case "bearer":
			c.Bearer = strings.TrimSpace(rest)
		case "basic":
			if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest)); err == nil && c.APIKey == "" {
				user, _, _ := strings.Cut(string(raw), ":")
				c.APIKey = user
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		c.RemoteIP = ip.Unmap()
	}
	return c
}

// Session is one HTTP request (or WebSocket connection) as the service sees it:
// its credentials, resolved to a Principal at most once, shared by every call
// of a batch.
type Session struct {
	Protocol  string
	RequestID string
	Creds     Credentials

	once      sync.Once
	principal *Principal
	authErr   error

	mu      sync.Mutex
	headers http.Header
}

// NewSession returns a session for one request.
func NewSession(protocol, requestID string, c Credentials) *Session {
	return &Session{Protocol: protocol, RequestID: requestID, Creds: c}
}

// HasCredentials reports whether the request presented an API key or a token.
func (s *Session) HasCredentials() bool { return s.Creds.APIKey != "" || s.Creds.Bearer != "" }

// SetHeader records a response header for the transport to send (Deprecation).
func (s *Session) SetHeader(k, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.headers == nil {
		s.headers = http.Header{}
	}
	s.headers.Set(k, v)
}

// CopyHeaders sets the response headers recorded by the calls of this
// session on dst (replacing dst's values of the same names). Call it once the
// session's calls are done: the value slices are handed over, not copied.
func (s *Session) CopyHeaders(dst http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.headers {
		dst[k] = v
	}
}

// Principal is the authenticated caller of a call: who, in which reseller
// subtree and mode, and in which time zone.
type Principal struct {
	UserID int64
	Login  string
	// KeyID is the API key used (0 for a JWT session).
	KeyID  int64
	ViaJWT bool
	// Live is the mode: live keys and JWT sessions are live, test_ keys are not.
	Live bool
	// ResellerID is the root of the visible reseller subtree (nil: everything);
	// ResellerPath is that root's materialised path ("/1/5/").
	ResellerID   *int64
	ResellerPath string
	// UserResellerID is the user's own reseller, before X-Reseller narrowing.
	UserResellerID *int64
	// Location renders and reads datetimes for this call.
	Location *time.Location
	// UserTimezone is the user's own zone name ("" when unset).
	UserTimezone string
	// APIVersion is the API version the key is pinned to ("" for a JWT
	// session: the latest); see versions.go.
	APIVersion string
}

// Restricted reports whether the principal sees only a reseller subtree.
func (p *Principal) Restricted() bool { return p.ResellerID != nil }

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionKey
	callKey
)

// WithPrincipal returns ctx carrying p; the store scopes every query by it.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the principal of ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// WithSession returns ctx carrying s.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey, s)
}

// SessionFrom returns the session of ctx, or nil.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey).(*Session)
	return s
}

// NewSystemSession returns a session already authenticated as the unrestricted
// live operator, for the command line (billgate users create …) and bootstrap.
func NewSystemSession() *Session {
	s := &Session{Protocol: "cli", RequestID: "cli"}
	s.once.Do(func() { s.principal = &Principal{Login: "system", Live: true} })
	return s
}

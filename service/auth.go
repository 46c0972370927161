package service

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/billgate/billgate/pkg/password"
	"github.com/billgate/billgate/pkg/secret"
	"github.com/billgate/billgate/pkg/token"
	"github.com/billgate/billgate/pkg/tz"
)

// How often last_used_at of an API key is written at most.
const touchEvery = time.Minute

var errUnauthenticated = &Error{Code: CodeUnauthenticated, Message: "authentication required: send an X-Api-Key header"}

// authenticate resolves the session's principal (once per request) and enforces
// the method's Auth.
func (s *Service) authenticate(next Handler) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		if c.Method.Auth == Public {
			if c.Session.HasCredentials() {
				// Public methods work with any credentials; a valid session still
				// lends its zone and identity to the call.
				if p, err := s.Principal(ctx, c.Session); err == nil {
					c.Principal = p
				}
			}
			return next(ctx, c)
		}
		p, err := s.Principal(ctx, c.Session)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, errUnauthenticated
		}
		if c.Method.Auth == JWTOnly && !p.ViaJWT {
			return nil, &Error{Code: CodeUnauthenticated, Message: "a valid JWT is required (Authorization: Bearer)"}
		}
		c.Principal = p
		return next(ctx, c)
	}
}

// Principal resolves the session's credentials to a Principal, at most once per
// session. It returns nil, nil when the session has no credentials. An invalid,
// expired or revoked key or token is CodeUnauthenticated; a disallowed IP is
// CodeForbidden; an X-Reseller outside the caller's subtree is CodeNotFound.
func (s *Service) Principal(ctx context.Context, sess *Session) (*Principal, error) {
	sess.once.Do(func() {
		sess.principal, sess.authErr = s.resolve(ctx, sess)
		if sess.authErr == nil && sess.principal != nil && sess.principal.ViaJWT {
			sess.SetHeader("Deprecation", "true")
			sess.SetHeader("Link", `</docs>; rel="deprecation"`)
		}
	})
	return sess.principal, sess.authErr
}

func (s *Service) resolve(ctx context.Context, sess *Session) (*Principal, error) {
	c := sess.Creds
	var (
		p   *Principal
		err error
	)
	switch {
	case c.APIKey != "":
		p, err = s.principalFromKey(ctx, sess, c.APIKey)
	case c.Bearer != "":
		p, err = s.principalFromJWT(ctx, sess, c.Bearer)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Reseller != "" {
		if err := s.narrow(ctx, p, c.Reseller); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (s *Service) principalFromKey(ctx context.Context, sess *Session, key string) (*Principal, error) {
	mode, _, ok := strings.Cut(key, "_")
	if !ok || (mode != ModeLive && mode != ModeTest) || len(key) > 128 {
		return nil, &Error{Code: CodeUnauthenticated, Message: "invalid API key"}
	}
	hash := secret.HashKey(key)
	now := s.clock.Now()
	k, u, cached := s.auth.key(hash, now)
	if !cached {
		gen := s.auth.generation()
		var err error
		if k, err = s.store.APIKeyByHash(ctx, hash); err != nil {
			if CodeOf(err) == CodeNotFound {
				return nil, &Error{Code: CodeUnauthenticated, Message: "invalid API key"}
			}
			return nil, err
		}
		if u, err = s.authUser(ctx, k.UsersID); err != nil {
			return nil, err
		}
		s.auth.putKey(gen, hash, k, u, now)
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return nil, &Error{Code: CodeUnauthenticated, Message: "API key expired"}
	}
	if u.Status != UserActive {
		return nil, &Error{Code: CodeUnauthenticated, Message: "user is disabled"}
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= touchEvery {
		if err := s.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			s.log.WarnContext(ctx, "touch api key", "key_id", k.ID, "err", err)
		} else {
			s.auth.touched(hash, now)
		}
	}
	p := s.principalFor(ctx, u)
	p.KeyID, p.Live, p.APIVersion = k.ID, k.Mode == ModeLive, k.APIVersion
	return p, s.checkIP(sess, u)
}

func (s *Service) principalFromJWT(ctx context.Context, sess *Session, tok string) (*Principal, error) {
	key, err := s.jwtSecret(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	claims, err := token.Verify(key, tok, now)
	if err != nil {
		return nil, &Error{Code: CodeUnauthenticated, Message: "invalid or expired token", Err: err}
	}
	u, cached := s.auth.user(claims.UserID, now)
	if !cached {
		gen := s.auth.generation()
		if u, err = s.authUser(ctx, claims.UserID); err != nil {
			return nil, err
		}
		s.auth.putUser(gen, u, now)
	}
	if u.Status != UserActive {
		return nil, &Error{Code: CodeUnauthenticated, Message: "user is disabled"}
	}
	p := s.principalFor(ctx, u)
	p.ViaJWT, p.Live = true, true
	return p, s.checkIP(sess, u)
}

// authUser loads an active user for authentication.
func (s *Service) authUser(ctx context.Context, id int64) (*User, error) {
	u, err := s.store.UserForAuth(ctx, id)
	if err != nil {
		if CodeOf(err) == CodeNotFound {
			return nil, &Error{Code: CodeUnauthenticated, Message: "invalid credentials: the user no longer exists"}
		}
		return nil, err
	}
	if u.Status != UserActive {
		return nil, &Error{Code: CodeUnauthenticated, Message: "user is disabled"}
	}
	return u, nil
}

func (s *Service) principalFor(ctx context.Context, u *User) *Principal {
	p := &Principal{UserID: u.ID, Login: u.Login, Location: s.cfg.Location, UserTimezone: u.Timezone}
	if u.Timezone != "" {
		if l, err := tz.Load(u.Timezone); err == nil {
			p.Location = l
		}
	}
	if u.ResellersID != nil {
		id := *u.ResellersID
		p.ResellerID, p.UserResellerID = &id, &id
		p.ResellerPath = u.ResellerPath
	}
	return p
}

// checkIP refuses a request from outside the user's allowed_ips.
func (s *Service) checkIP(sess *Session, u *User) error {
	if len(u.AllowedIPs) == 0 || sess == nil {
		return nil
	}
	ip := sess.Creds.RemoteIP
	for _, cidr := range u.AllowedIPs {
		if pfx, err := netip.ParsePrefix(cidr); err == nil && ip.IsValid() && pfx.Contains(ip) {
			return nil
		}
	}
	return Errorf(CodeForbidden, "IP %s is not allowed", ip)
}

// narrow restricts p to the subtree of the X-Reseller header, which must lie in
// p's own subtree.
func (s *Service) narrow(ctx context.Context, p *Principal, header string) error {
	id, err := strconv.ParseInt(header, 10, 64)
	if err != nil || id <= 0 {
		return InvalidField("X-Reseller", "must be a reseller id")
	}
	path, err := s.store.ResellerPath(ctx, id)
	if err != nil {
		return err
	}
	if p.ResellerID != nil && !strings.HasPrefix(path, p.ResellerPath) {
		return NotFound("reseller", id)
	}
	p.ResellerID, p.ResellerPath = &id, path
	return nil
}

// jwtKeys caches the signing secret.
type jwtKeys struct {
	mu  sync.Mutex
	key []byte
}

// jwtSecret returns the configured secret, or the one kept in the database
// (generated by whichever process needs it first).
func (s *Service) jwtSecret(ctx context.Context) ([]byte, error) {
	if s.cfg.JWTSecret != "" {
		return []byte(s.cfg.JWTSecret), nil
	}
	s.jwt.mu.Lock()
	defer s.jwt.mu.Unlock()
	if s.jwt.key != nil {
		return s.jwt.key, nil
	}
	v, err := s.store.Setting(ctx, "jwt_secret", secret.Random(64))
	if err != nil {
		return nil, err
	}
	s.jwt.key = []byte(v)
	return s.jwt.key, nil
}

// Token is a JWT with its expiry.
type Token struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// LoginParams are the params of iam.auth.jwt.authenticate.
type LoginParams struct {
	Login    string `json:"login" required:"true"`
	Password string `json:"password" required:"true"`
}

// NoParams is the params of methods that take none.
type NoParams struct{}

// a hash to compare against when the login is unknown, so that both cases cost the same.
var dummyHash = func() string { h, _ := password.Hash("billgate-no-such-user"); return h }()

func (s *Service) registerAuth() {
	Register(s.registry, Decl[LoginParams, *Token]{
		Name: "iam.auth.jwt.authenticate", Summary: "Exchange login and password for a JWT (deprecated: use API keys).",
		HTTP: Route{Verb: "POST", Path: "/iam/auth/jwt"}, Auth: Public,
		Raises: []Code{CodeUnauthenticated}, Do: s.jwtAuthenticate,
	})
	Register(s.registry, Decl[NoParams, *Token]{
		Name: "iam.auth.jwt.refresh", Summary: "Exchange a valid JWT for a new one (deprecated).",
		HTTP: Route{Verb: "POST", Path: "/iam/auth/jwt/refresh"}, Auth: JWTOnly,
		Do: func(ctx context.Context, _ *NoParams) (*Token, error) {
			u, err := s.authUser(ctx, PrincipalFrom(ctx).UserID)
			if err != nil {
				return nil, err
			}
			return s.issueToken(ctx, u)
		},
	})
}

var errBadLogin = &Error{Code: CodeUnauthenticated, Message: "invalid login or password"}

func (s *Service) jwtAuthenticate(ctx context.Context, p *LoginParams) (*Token, error) {
	u, err := s.store.UserByLogin(ctx, p.Login)
	if err != nil {
		if CodeOf(err) != CodeNotFound {
			return nil, err
		}
		password.Check(dummyHash, p.Password)
		return nil, errBadLogin
	}
	if !password.Check(u.PasswordHash, p.Password) {
		return nil, errBadLogin
	}
	if u.Status != UserActive {
		return nil, &Error{Code: CodeUnauthenticated, Message: "user is disabled"}
	}
	if err := s.checkIP(SessionFrom(ctx), u); err != nil {
		return nil, err
	}
	return s.issueToken(ctx, u)
}

func (s *Service) issueToken(ctx context.Context, u *User) (*Token, error) {
	key, err := s.jwtSecret(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	exp := now.Add(s.cfg.JWTTTL).Truncate(time.Second)
	tok, err := token.Sign(key, u.ID, now, exp)
	if err != nil {
		return nil, Internal(err)
	}
	return &Token{Token: tok, ExpiresAt: exp}, nil
}

// ErrNoPrincipal is returned by the store when a scoped query has no principal.
var ErrNoPrincipal = errors.New("no principal in context: refusing an unscoped query")

package service

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/billgate/billgate/pkg/tz"
)

// Clock tells the time; domain code never calls time.Now directly.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time in UTC, truncated to microseconds (what the databases keep).
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Config is what the service needs from the program's configuration.
type Config struct {
	Name       string
	Version    string
	APIVersion string
	// Location is the server's default zone (BILLGATE_TIMEZONE).
	Location *time.Location
	// JWTSecret signs tokens; empty means generate once and keep it in the database.
	JWTSecret string
	JWTTTL    time.Duration
	// CallTimeout bounds one call (0: no bound beyond the request's own).
	CallTimeout time.Duration
	// AuthCacheTTL is how long a key or user lookup is reused (0: never);
	// see authCache for what that means across processes.
	AuthCacheTTL time.Duration
}

// Service holds the dependencies of every method and the method registry.
type Service struct {
	cfg      Config
	store    Store
	clock    Clock
	log      *slog.Logger
	registry *Registry
	handler  Handler
	jwt      *jwtKeys
	auth     *authCache
	versions *versionSet
}

// New builds the service and registers every method.
func New(cfg Config, st Store, clock Clock, log *slog.Logger) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.JWTTTL <= 0 {
		cfg.JWTTTL = time.Hour
	}
	if clock == nil {
		clock = SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, store: st, clock: clock, log: log, registry: NewRegistry(), jwt: &jwtKeys{},
		auth: newAuthCache(cfg.AuthCacheTTL)}
	s.registerSystem()
	s.registerAuth()
	s.registerUsers()
	s.registerAPIKeys()
	s.registerResellers()
	s.registerClients()
	s.registerAccounts()
	s.registerCurrencies()
	s.registerLedger()
	s.registerAudit()
	s.registerBilling()
	s.initVersions()
	s.handler = chain(s.invoke, s.recoverPanics, s.logCalls, s.invalidateAuth, s.versioned, s.authenticate, s.bindParams, s.idempotency)
	return s
}

// Registry returns the registered methods.
func (s *Service) Registry() *Registry { return s.registry }

// Store returns the store the service was built with.
func (s *Service) Store() Store { return s.store }

// Clock returns the service's clock.
func (s *Service) Clock() Clock { return s.clock }

// Call is one method call on its way through the method middleware.
type Call struct {
	Method    *Method
	Session   *Session
	Args      Args
	Meta      Meta
	Principal *Principal
	Params    any
	Start     time.Time
}

// Handler runs a call.
type Handler func(ctx context.Context, c *Call) (any, error)

// Middleware wraps a Handler; the same chain runs for every transport.
type Middleware func(Handler) Handler

// chain applies mws so that the first is the outermost.
func chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Use wraps the method chain in further middleware (metrics); call it before serving.
func (s *Service) Use(mw Middleware) { s.handler = mw(s.handler) }

// Invoke runs the method name with args for the session. It is the single entry
// point of every transport. Errors are *Error (see AsError).
func (s *Service) Invoke(ctx context.Context, sess *Session, name string, args Args) (any, error) {
	m, ok := s.registry.Lookup(name)
	if !ok {
		return nil, &Error{Code: CodeMethodNotFound, Message: "method not found: " + truncate(name, 100)}
	}
	if args == nil {
		args = Args{}
	}
	c := &Call{Method: m, Session: sess, Args: args, Start: time.Now()}
	ctx = WithSession(ctx, sess)
	res, err := s.handler(ctx, c)
	if err != nil {
		return nil, AsError(err)
	}
	return res, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// recoverPanics turns a panic in a method into an internal error (batch
// elements run on their own goroutines, out of reach of HTTP recovery).
func (s *Service) recoverPanics(next Handler) Handler {
	return func(ctx context.Context, c *Call) (res any, err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.ErrorContext(ctx, "panic", "method", c.Method.Name, "request_id", c.Session.RequestID,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				res, err = nil, Internal(fmt.Errorf("panic: %v", r))
			}
		}()
		return next(ctx, c)
	}
}

// logCalls writes one structured line per call.
func (s *Service) logCalls(next Handler) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		res, err := next(ctx, c)
		attrs := []slog.Attr{
			slog.String("request_id", c.Session.RequestID),
			slog.String("method", c.Method.Name),
			slog.String("protocol", c.Session.Protocol),
			slog.Duration("duration", time.Since(c.Start)),
		}
		if c.Principal != nil {
			attrs = append(attrs, slog.Int64("user_id", c.Principal.UserID))
		}
		level := slog.LevelInfo
		if err != nil {
			e := AsError(err)
			attrs = append(attrs, slog.String("code", string(e.Code)))
			if e.Code == CodeInternal || e.Code == CodeUnavailable {
				level = slog.LevelError
				if e.Err != nil {
					attrs = append(attrs, slog.String("cause", e.Err.Error()))
				}
			}
		} else {
			attrs = append(attrs, slog.String("code", "ok"))
		}
		s.log.LogAttrs(ctx, level, "call", attrs...)
		return res, err
	}
}

// bindParams reads request meta (__tz, __idempotency_key), decodes and validates
// params, and fixes the call's zone.
func (s *Service) bindParams(next Handler) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		meta, err := splitMeta(c.Args)
		if err != nil {
			return nil, err
		}
		c.Meta = meta
		ctx = withCall(ctx, c)
		loc := s.cfg.Location
		if c.Principal != nil && c.Principal.Location != nil {
			loc = c.Principal.Location
		}
		if meta.TZ != "" {
			l, err := tz.Load(meta.TZ)
			if err != nil {
				return nil, InvalidField("__tz", "unknown time zone (want an IANA name such as America/New_York)")
			}
			loc = l
		}
		if c.Principal != nil {
			p := *c.Principal // per call: batch elements may carry their own __tz
			p.Location = loc
			c.Principal = &p
			ctx = WithPrincipal(ctx, c.Principal)
		}
		if c.Params, err = bind(c.Method, c.Args, loc); err != nil {
			return nil, err
		}
		res, err := next(ctx, c)
		if err == nil {
			Localize(res, loc)
		}
		return res, err
	}
}

// invoke runs the method's handler under the call deadline (or, for a call
// gathered by RunBatch, hands its params to the batch's one call of Many).
func (s *Service) invoke(ctx context.Context, c *Call) (any, error) {
	if sl := gathered(ctx, c.Method); sl != nil {
		return sl.handIn(ctx, c)
	}
	ctx, cancel := s.callDeadline(ctx, c.Start)
	defer cancel()
	return c.Method.Call(ctx, c.Params)
}

// callDeadline bounds ctx by the call deadline (call_timeout from start), the
// one place a handler's deadline is set.
func (s *Service) callDeadline(ctx context.Context, start time.Time) (context.Context, context.CancelFunc) {
	if s.cfg.CallTimeout <= 0 {
		return ctx, func() {}
	}
	return withCallDeadline(ctx, start.Add(s.cfg.CallTimeout))
}

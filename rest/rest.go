// Package rest is the echo adapter of billgate: it mounts every method of the
// service registry that declares an HTTP route (service.Route) as a REST
// endpoint, with no per-method code.
//
// Where things live:
//   - rest.go: New, Options, the mounting of every method, and the HTTP-layer
//     middleware (RequestID, Recover);
//   - args.go: building service.Args from path, query and body (API.md §1);
//   - handler.go: the one generic handler and the success responses (201 + Location,
//     Link headers of paged lists, raw bodies);
//   - errors.go: the HTTP status table of service.Code and the error responses;
//   - openapi.go: the OpenAPI 3.1 document of the registry; docs.go: serving it
//     and the embedded Swagger UI (docs/).
package rest

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/billgate/billgate/service"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is 0 (5 MiB).
const DefaultMaxBodyBytes = 5 << 20

// Options configure New.
type Options struct {
	// MaxBodyBytes limits a REST request body; a larger one gets HTTP 413
	// (too_large). 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives panics, internal errors of non-method handlers and
	// route set-up warnings. nil discards them.
	Logger *slog.Logger
}

// New returns an echo instance serving every method of svc's registry that has
// an HTTP path, with the HTTP-layer middleware (RequestID, Recover) installed as
// pre-routing middleware and ErrorHandler as the HTTPErrorHandler. Routes added
// to the returned instance afterwards (JSON-RPC at POST /, health probes) run
// behind the same middleware, and errors they return (*service.Error,
// *echo.HTTPError or any other error, which becomes internal) are written in
// the API's error shape. Unknown routes get 404 method_not_found, a known path
// with another verb gets 405. The instance also serves the OpenAPI document of
// those routes (GET /openapi.json, generated here once) and the browsable docs
// (GET /docs, an embedded Swagger UI).
func New(svc *service.Service, opts Options) *echo.Echo {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = ErrorHandler(log)
	e.Pre(RequestID(), Recover(log))

	methods := svc.Registry().Methods()
	for _, m := range methods {
		if m.HTTP.Path == "" {
			continue
		}
		rt := &route{svc: svc, m: m, maxBody: opts.MaxBodyBytes, created: m.HTTP.Created}
		if rt.created {
			rt.location, rt.idField = locationPlan(m, methods)
			if rt.idField == nil && !isDynamic(m.ResultType) {
				log.Warn("rest: created result has no id field: 201 without Location",
					"method", m.Name, "field", lastParam(rt.location))
			}
		}
		if m.HTTP.Raw != "" {
			idx, ok := fieldIndex(m.ResultType, m.HTTP.Raw)
			if !ok && !isDynamic(m.ResultType) {
				panic("rest: " + m.Name + ": Route.Raw names no field " + m.HTTP.Raw + " of " + m.ResultType.String())
			}
			rt.rawField, rt.raw = idx, m.HTTP.Raw
		}
		e.Add(strings.ToUpper(m.HTTP.Verb), m.HTTP.Path, rt.serve)
	}
	mountDocs(e, svc, log)
	return e
}

// route is one mounted method with what its responses need, computed once.
type route struct {
	svc     *service.Service
	m       *service.Method
	maxBody int64
	created bool
	// location is the path template of the created object ("/clients/:id");
	// idField indexes its last parameter in the result struct (nil: look it up
	// on the dynamic type).
	location string
	idField  []int
	// raw names the result field served as the body; rawField indexes it.
	raw      string
	rawField []int
}

// HeaderRequestID carries the request id: read from the client when sane, set
// on the request (for downstream handlers) and on the response.
const HeaderRequestID = "X-Request-Id"

// maxRequestIDLen bounds a client-supplied request id.
const maxRequestIDLen = 128

// RequestID returns middleware that gives every request an id: the client's
// X-Request-Id when it is 1–128 characters of [A-Za-z0-9._-], else a fresh
// random one. The id is set on the request header, so handlers behind it
// (and rpc, cmd) read it with r.Header.Get(HeaderRequestID), and on the
// response header.
func RequestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			id := r.Header.Get(HeaderRequestID)
			if !saneRequestID(id) {
				id = rand.Text()
				r.Header.Set(HeaderRequestID, id)
			} else if len(r.Header.Values(HeaderRequestID)) > 1 {
				r.Header.Set(HeaderRequestID, id)
			}
			c.Response().Header().Set(HeaderRequestID, id)
			return next(c)
		}
	}
}

// saneRequestID reports whether id may be echoed back and logged as it is.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

// Recover returns middleware that turns a panic in any handler behind it into
// a 500 internal error in the API's shape. The panic value and stack are
// logged with the request id and never sent. http.ErrAbortHandler is re-raised
// (it is net/http's way to abort a response on purpose).
func Recover(log *slog.Logger) echo.MiddlewareFunc {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				if p == http.ErrAbortHandler {
					panic(p)
				}
				r := c.Request()
				log.ErrorContext(r.Context(), "panic", "request_id", r.Header.Get(HeaderRequestID),
					"verb", r.Method, "path", clip(r.URL.Path), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = writeError(c, service.Internal(fmt.Errorf("panic: %v", p)))
			}()
			return next(c)
		}
	}
}

package service

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Auth says what a method needs from the caller.
type Auth int

const (
	// Authenticated methods need a valid API key or (deprecated) JWT.
	Authenticated Auth = iota
	// Public methods need no credentials (system.version, iam.auth.jwt.authenticate).
	Public
	// JWTOnly methods need a valid JWT (iam.auth.jwt.refresh).
	JWTOnly
)

// Route is a method's REST verb and path (echo syntax: /clients/:id).
type Route struct {
	Verb string
	Path string
	// Created makes REST answer 201 with a Location header (creates).
	Created bool
	// Raw, when set, names a result field holding bytes that REST serves as-is
	// with this content type (PDFs); JSON-RPC returns them base64-encoded.
	Raw string
}

// Method is a registered service method with its types erased. Both transports
// (and the API documents) are driven by the registry of Methods.
type Method struct {
	Name    string
	Summary string
	HTTP    Route
	Auth    Auth
	// Idempotent methods honour Idempotency-Key / __idempotency_key.
	Idempotent bool
	// Raises lists error codes the handler itself returns beyond those its
	// declaration implies (see ErrorCodes), for the API documents.
	Raises []Code
	// ParamsType and ResultType are the Go types behind the wire shapes.
	ParamsType reflect.Type
	ResultType reflect.Type
	// NewParams returns a pointer to a fresh params value.
	NewParams func() any
	// Call runs the handler with params from NewParams, already bound and validated.
	Call func(ctx context.Context, params any) (any, error)
	// CallMany, when not nil, runs the handler for several params at once (see
	// Decl.Many and RunBatch); it returns one result and one error per params.
	CallMany func(ctx context.Context, params []any) ([]any, []error)
}

// Decl declares a method with its concrete params and result types.
type Decl[P, R any] struct {
	Name       string
	Summary    string
	HTTP       Route
	Auth       Auth
	Idempotent bool
	Raises     []Code
	Do         func(ctx context.Context, p *P) (R, error)
	// Many, optional, answers several calls of a read-only method at once (one
	// query instead of one per call): the elements of a JSON-RPC batch calling
	// the method are gathered into one call of Many (see RunBatch). It returns
	// len(ps) results and len(ps) errors, each exactly what Do would have
	// returned for that params, and each result a value of its own (results
	// are localised in place, per call).
	Many func(ctx context.Context, ps []*P) ([]R, []error)
}

// Registry holds the methods of the service; it panics on a duplicate name or route.
type Registry struct {
	methods []*Method
	byName  map[string]*Method
	routes  map[string]string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byName: map[string]*Method{}, routes: map[string]string{}}
}

// Register adds the declaration d to r.
func Register[P, R any](r *Registry, d Decl[P, R]) *Method {
	do := d.Do
	m := &Method{
		Name: d.Name, Summary: d.Summary, HTTP: d.HTTP, Auth: d.Auth, Idempotent: d.Idempotent, Raises: d.Raises,
		ParamsType: reflect.TypeFor[P](),
		ResultType: reflect.TypeFor[R](),
		NewParams:  func() any { return new(P) },
		Call: func(ctx context.Context, p any) (any, error) {
			res, err := do(ctx, p.(*P))
			if err != nil {
				return nil, err
			}
			return res, nil
		},
	}
	if many := d.Many; many != nil {
		m.CallMany = func(ctx context.Context, ps []any) ([]any, []error) {
			typed := make([]*P, len(ps))
			for i, p := range ps {
				typed[i] = p.(*P)
			}
			rs, errs := many(ctx, typed)
			if len(rs) != len(ps) || len(errs) != len(ps) {
				panic(fmt.Sprintf("%s: Many returned %d results and %d errors for %d calls", d.Name, len(rs), len(errs), len(ps)))
			}
			out := make([]any, len(ps))
			for i := range out {
				if errs[i] == nil {
					out[i] = rs[i]
				}
			}
			return out, errs
		}
	}
	r.Add(m)
	return m
}

// Add registers m, panicking on an empty or duplicate name, a reserved rpc. name,
// or a duplicate REST route.
func (r *Registry) Add(m *Method) {
	if m.Name == "" || strings.HasPrefix(m.Name, "rpc.") {
		panic(fmt.Sprintf("service: invalid method name %q", m.Name))
	}
	if m.CallMany != nil && m.Idempotent {
		panic("service: " + m.Name + ": a Many form is for read-only methods")
	}
	if _, dup := r.byName[m.Name]; dup {
		panic("service: duplicate method " + m.Name)
	}
	if m.HTTP.Path != "" {
		key := m.HTTP.Verb + " " + normalizeRoute(m.HTTP.Path)
		if other, dup := r.routes[key]; dup {
			panic(fmt.Sprintf("service: route %s of %s already belongs to %s", key, m.Name, other))
		}
		r.routes[key] = m.Name
	}
	r.byName[m.Name] = m
	r.methods = append(r.methods, m)
}

// normalizeRoute makes /a/:id and /a/:code the same route.
func normalizeRoute(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = ":"
		}
	}
	return strings.Join(parts, "/")
}

// Lookup returns the method called name.
func (r *Registry) Lookup(name string) (*Method, bool) {
	m, ok := r.byName[name]
	return m, ok
}

// Methods returns every method, sorted by name.
func (r *Registry) Methods() []*Method {
	out := append([]*Method(nil), r.methods...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

package rpc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/billgate/billgate/pkg/schema"
	"github.com/billgate/billgate/service"
)

// OpenRPCVersion is the version of the OpenRPC specification the document follows.
const OpenRPCVersion = "1.3.2"

// OpenRPCPath is where OpenRPCHandler is meant to be mounted.
const OpenRPCPath = "/openrpc.json"

// OpenRPC returns the OpenRPC document of every method of svc's registry,
// built from the registry and the Go types of params and results
// (pkg/schema): params by name with their types, required flags, enums and
// descriptions, the request meta params (__tz, __idempotency_key), the
// result, the errors (service.ErrorCodes) and the credentials each method
// needs (x-security, with the schemes in x-security-schemes: OpenRPC has no
// security objects of its own). rpc.discover answers it; so does
// OpenRPCHandler.
func OpenRPC(svc *service.Service) ([]byte, error) {
	return json.Marshal(buildOpenRPC(svc))
}

// discoverDoc is the generated document of one service, built once.
type discoverDoc struct {
	once sync.Once
	b    []byte
	err  error
}

var discoverDocs sync.Map // *service.Service → *discoverDoc

func cachedOpenRPC(svc *service.Service) ([]byte, error) {
	v, _ := discoverDocs.LoadOrStore(svc, new(discoverDoc))
	d := v.(*discoverDoc)
	d.once.Do(func() { d.b, d.err = OpenRPC(svc) })
	return d.b, d.err
}

// discover is rpc.discover: the OpenRPC document as the result.
func discover(svc *service.Service) (any, *service.Error) {
	b, err := cachedOpenRPC(svc)
	if err != nil {
		return nil, service.Internal(err)
	}
	return json.RawMessage(b), nil
}

// OpenRPCHandler returns a handler serving the OpenRPC document of svc (for
// GET /openrpc.json). The document is generated here, once, and shared with
// rpc.discover.
func OpenRPCHandler(svc *service.Service) http.Handler {
	b, err := cachedOpenRPC(svc)
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			http.Error(w, `{"error":{"code":-32603,"message":"internal error","data":{"code":"internal"}}}`, http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	})
}

type orDoc struct {
	OpenRPC    string       `json:"openrpc"`
	Info       orInfo       `json:"info"`
	Methods    []*orMethod  `json:"methods"`
	Components orComponents `json:"components"`
	// SecuritySchemes are the credentials the x-security of methods name
	// (the shapes of OpenAPI's security schemes).
	SecuritySchemes map[string]*service.SecurityScheme `json:"x-security-schemes"`
}

type orInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

type orMethod struct {
	Name           string                `json:"name"`
	Summary        string                `json:"summary,omitempty"`
	Description    string                `json:"description,omitempty"`
	Tags           []orTag               `json:"tags,omitempty"`
	ParamStructure string                `json:"paramStructure"`
	Params         []*contentDescriptor  `json:"params"`
	Result         *contentDescriptor    `json:"result"`
	Errors         []orRef               `json:"errors,omitempty"`
	Security       []map[string][]string `json:"x-security"`
	REST           *orREST               `json:"x-rest,omitempty"`
}

type orTag struct {
	Name string `json:"name"`
}

type orRef struct {
	Ref string `json:"$ref"`
}

// orREST names the same method's REST route.
type orREST struct {
	Verb string `json:"verb"`
	Path string `json:"path"`
}

type contentDescriptor struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Required    bool           `json:"required,omitempty"`
	Schema      *schema.Schema `json:"schema"`
}

type orComponents struct {
	Schemas map[string]*schema.Schema `json:"schemas"`
	Errors  map[string]*orError       `json:"errors"`
}

type orError struct {
	Code    int64          `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

func buildOpenRPC(svc *service.Service) *orDoc {
	g := schema.New("#/components/schemas/")
	about := svc.About()
	doc := &orDoc{
		OpenRPC: OpenRPCVersion,
		Info: orInfo{
			Title:   firstNonEmpty(about.Name, "API"),
			Version: firstNonEmpty(about.APIVersion, about.Version, "0"),
			Description: "JSON-RPC 2.0 over HTTP: POST / with one request or a batch (also over WebSocket at GET /ws); " +
				"params by name. Every method is also a REST route (x-rest; OpenAPI document at /openapi.json). " +
				"Credentials are HTTP headers (x-security), as are X-Reseller and " + service.HeaderAPIVersion + ". " +
				"This document describes API version " + firstNonEmpty(about.APIVersion, "latest") + "; older versions differ " +
				"as system.versions says. Server version: " + firstNonEmpty(about.Version, "unknown") + ".",
		},
		Components:      orComponents{Errors: map[string]*orError{}},
		SecuritySchemes: service.SecuritySchemes(),
	}
	for _, m := range svc.Registry().Methods() {
		doc.Methods = append(doc.Methods, buildMethod(g, m, doc.Components.Errors))
	}
	doc.Components.Schemas = g.Definitions()
	return doc
}

func buildMethod(g *schema.Generator, m *service.Method, errs map[string]*orError) *orMethod {
	om := &orMethod{
		Name:           m.Name,
		Summary:        m.Summary,
		ParamStructure: "by-name",
		Params:         []*contentDescriptor{},
	}
	if i := strings.LastIndexByte(m.Name, '.'); i > 0 {
		om.Tags = []orTag{{Name: m.Name[:i]}}
	}
	for _, f := range g.Fields(m.ParamsType) {
		s := f.Schema
		if f.Nullable {
			s = schema.WithNull(s)
		}
		if s.Description == f.Description {
			cp := *s
			cp.Description = ""
			s = &cp
		}
		om.Params = append(om.Params, &contentDescriptor{Name: f.Name, Description: f.Description, Required: f.Required, Schema: s})
	}
	om.Params = append(om.Params, &contentDescriptor{Name: "__tz", Description: service.DocTZ, Schema: &schema.Schema{Type: "string"}})
	if m.Idempotent {
		om.Params = append(om.Params, &contentDescriptor{Name: "__idempotency_key", Description: service.DocIdempotencyKey,
			Schema: &schema.Schema{Type: "string", MaxLength: ptr(uint64(255))}})
	}
	om.Result = &contentDescriptor{Name: "result", Schema: g.Schema(m.ResultType)}
	var notes []string
	if isList(m.ResultType) {
		om.Result.Description = "The matching objects (an array)."
	}
	security, note := m.Auth.Security()
	om.Security = security
	if note != "" {
		notes = append(notes, note)
	}
	if m.HTTP.Path != "" {
		om.REST = &orREST{Verb: strings.ToUpper(m.HTTP.Verb), Path: templatePath(m.HTTP.Path)}
		notes = append(notes, "REST: "+om.REST.Verb+" "+om.REST.Path+".")
	}
	om.Description = strings.Join(notes, " ")
	for _, c := range m.ErrorCodes() {
		name := string(c)
		if errs[name] == nil {
			errs[name] = &orError{Code: c.Number(), Message: strings.ReplaceAll(name, "_", " "), Data: map[string]any{"code": name}}
		}
		om.Errors = append(om.Errors, orRef{Ref: "#/components/errors/" + name})
	}
	return om
}

// templatePath writes a route's parameters as OpenAPI does: /clients/{id}.
func templatePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			segs[i] = "{" + name + "}"
		}
	}
	return strings.Join(segs, "/")
}

// isList reports whether values of t are lists (ItemType()).
func isList(t reflect.Type) bool {
	if t == nil {
		return false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	_, ok := reflect.New(t).Interface().(interface{ ItemType() reflect.Type })
	return ok
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

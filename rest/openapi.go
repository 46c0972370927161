package rest

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/billgate/billgate/pkg/schema"
	"github.com/billgate/billgate/service"
)

// OpenAPIVersion is the version of the OpenAPI specification the document follows.
const OpenAPIVersion = "3.1.0"

// OpenAPI returns the OpenAPI 3.1 document of every method of svc's registry
// that has an HTTP route, built from the registry and the Go types of params
// and results (pkg/schema): for each route its path, query and body
// parameters, its success response (201 + Location for creates, a bare array
// and Link headers for lists), its error responses (the method's
// service.ErrorCodes plus the transport's, by the status table) and its
// security (none for Public methods). rest.New serves it at GET /openapi.json.
func OpenAPI(svc *service.Service) ([]byte, error) {
	return json.Marshal(buildOpenAPI(svc))
}

type oaDoc struct {
	OpenAPI    string                           `json:"openapi"`
	Info       oaInfo                           `json:"info"`
	Servers    []oaServer                       `json:"servers"`
	Security   []map[string][]string            `json:"security"`
	Tags       []oaTag                          `json:"tags"`
	Paths      map[string]map[string]*operation `json:"paths"`
	Components oaComponents                     `json:"components"`
}

type oaInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

type oaServer struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

type oaTag struct {
	Name string `json:"name"`
}

type operation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary,omitempty"`
	Description string                `json:"description,omitempty"`
	Tags        []string              `json:"tags,omitempty"`
	Parameters  []*parameter          `json:"parameters,omitempty"`
	RequestBody *requestBody          `json:"requestBody,omitempty"`
	Responses   map[string]*response  `json:"responses"`
	Security    []map[string][]string `json:"security"`
	// JSONRPCMethod names the same method on the JSON-RPC transport.
	JSONRPCMethod string `json:"x-jsonrpc-method"`
}

// parameter is a Parameter Object, or a Reference Object when Ref is set.
type parameter struct {
	Ref         string                 `json:"$ref,omitempty"`
	Name        string                 `json:"name,omitempty"`
	In          string                 `json:"in,omitempty"`
	Description string                 `json:"description,omitempty"`
	Required    bool                   `json:"required,omitempty"`
	Schema      *schema.Schema         `json:"schema,omitempty"`
	Explode     *bool                  `json:"explode,omitempty"`
	Content     map[string]mediaObject `json:"content,omitempty"`
}

type requestBody struct {
	Description string                 `json:"description,omitempty"`
	Required    bool                   `json:"required,omitempty"`
	Content     map[string]mediaObject `json:"content"`
}

type mediaObject struct {
	Schema *schema.Schema `json:"schema,omitempty"`
}

// response is a Response Object, or a Reference Object when Ref is set.
type response struct {
	Ref         string                 `json:"$ref,omitempty"`
	Description string                 `json:"description,omitempty"`
	Headers     map[string]*header     `json:"headers,omitempty"`
	Content     map[string]mediaObject `json:"content,omitempty"`
}

type header struct {
	Description string         `json:"description,omitempty"`
	Schema      *schema.Schema `json:"schema"`
}

type oaComponents struct {
	Schemas         map[string]*schema.Schema          `json:"schemas"`
	Responses       map[string]*response               `json:"responses"`
	Parameters      map[string]*parameter              `json:"parameters"`
	SecuritySchemes map[string]*service.SecurityScheme `json:"securitySchemes"`
}

// The REST error body, for the document. writeErrorStatus writes errorBody
// with service.Error.Data as data; a test checks that real error responses
// match this description.
type (
	errorDoc struct {
		Error errorObjectDoc `json:"error"`
	}
	errorObjectDoc struct {
		Code    int64        `json:"code" doc:"the numeric error code, the same as over JSON-RPC"`
		Message string       `json:"message" doc:"what went wrong, for people; internal errors say only \"internal error\""`
		Data    errorDataDoc `json:"data"`
	}
	errorDataDoc struct {
		Code   string            `json:"code" doc:"the stable error code"`
		Fields map[string]string `json:"fields,omitempty" doc:"invalid parameters, each with what is wrong with it"`
		Reason string            `json:"reason,omitempty" doc:"a finer, stable reason of a business-rule refusal, such as low_balance"`
	}
)

const (
	refSchemas    = "#/components/schemas/"
	refParameters = "#/components/parameters/"
	errorSchema   = "Error"
	paramTZ       = "tz"
	paramIdemKey  = "IdempotencyKey"
	paramReseller = "Reseller"
	paramVersion  = "APIVersion"
)

func buildOpenAPI(svc *service.Service) *oaDoc {
	g := schema.New(refSchemas)
	g.Name(reflect.TypeFor[errorDoc](), errorSchema)
	g.Name(reflect.TypeFor[errorObjectDoc](), "ErrorObject")
	g.Name(reflect.TypeFor[errorDataDoc](), "ErrorData")
	errRef := g.Schema(reflect.TypeFor[errorDoc]())
	responses := map[string]*response{}
	// errorResponse refers to the shared response of an error status with
	// these codes (named by them), defining it on first use.
	errorResponse := func(codes []service.Code) *response {
		sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
		names := make([]string, len(codes))
		for i, c := range codes {
			names[i] = string(c)
		}
		name := strings.Join(names, "-")
		if responses[name] == nil {
			responses[name] = &response{
				Description: describeCodes(codes),
				Content:     map[string]mediaObject{"application/json": {Schema: cloneRef(errRef)}},
			}
		}
		return &response{Ref: "#/components/responses/" + name}
	}
	about := svc.About()
	authenticated, _ := service.Authenticated.Security()
	doc := &oaDoc{
		OpenAPI: OpenAPIVersion,
		Info: oaInfo{
			Title:       firstNonEmpty(about.Name, "API"),
			Version:     firstNonEmpty(about.APIVersion, about.Version, "0"),
			Description: infoDescription(about),
		},
		Servers:  []oaServer{{URL: "/", Description: "this server"}},
		Security: authenticated,
		Paths:    map[string]map[string]*operation{},
		Components: oaComponents{
			Parameters: map[string]*parameter{
				paramTZ: {Name: "__tz", In: "query", Schema: &schema.Schema{Type: "string"},
					Description: service.DocTZ + " Also accepted as a member of the body."},
				paramIdemKey: {Name: "Idempotency-Key", In: "header", Schema: &schema.Schema{Type: "string", MaxLength: ptr(uint64(255))},
					Description: service.DocIdempotencyKey + " (JSON-RPC: the __idempotency_key param.)"},
				paramReseller: {Name: "X-Reseller", In: "header", Schema: &schema.Schema{Type: "integer"},
					Description: service.DocReseller},
				paramVersion: {Name: service.HeaderAPIVersion, In: "header", Schema: &schema.Schema{Type: "string"},
					Description: "The API version to answer in (default: the API key's pinned version; GET /versions lists them). " +
						"This document describes the latest one."},
			},
			SecuritySchemes: service.SecuritySchemes(),
		},
	}
	tags := map[string]bool{}
	for _, m := range svc.Registry().Methods() {
		if m.HTTP.Path == "" {
			continue
		}
		path, names := openAPIPath(m.HTTP.Path)
		verb := strings.ToLower(m.HTTP.Verb)
		op := buildOperation(g, m, names, errorResponse)
		if doc.Paths[path] == nil {
			doc.Paths[path] = map[string]*operation{}
		}
		doc.Paths[path][verb] = op
		tags[op.Tags[0]] = true
	}
	for t := range tags {
		doc.Tags = append(doc.Tags, oaTag{Name: t})
	}
	sort.Slice(doc.Tags, func(i, j int) bool { return doc.Tags[i].Name < doc.Tags[j].Name })
	doc.Components.Schemas = g.Definitions()
	doc.Components.Responses = responses
	setErrorCodes(doc.Components.Schemas)
	return doc
}

// setErrorCodes lists every error code in the error schema.
func setErrorCodes(defs map[string]*schema.Schema) {
	codes := make([]any, len(service.AllCodes))
	numbers := make([]any, 0, len(service.AllCodes))
	seen := map[int64]bool{}
	for i, c := range service.AllCodes {
		codes[i] = string(c)
		if n := c.Number(); !seen[n] {
			seen[n] = true
			numbers = append(numbers, n)
		}
	}
	if d, ok := defs["ErrorData"]; ok && d.Properties != nil {
		if p, ok := d.Properties.Get("code"); ok {
			p.Enum = codes
		}
	}
	if d, ok := defs["ErrorObject"]; ok && d.Properties != nil {
		if p, ok := d.Properties.Get("code"); ok {
			p.Enum = numbers
		}
	}
}

func buildOperation(g *schema.Generator, m *service.Method, pathNames []string, errorResponse func([]service.Code) *response) *operation {
	op := &operation{
		OperationID:   m.Name,
		Summary:       m.Summary,
		Tags:          []string{tagOf(m.Name)},
		Responses:     map[string]*response{},
		JSONRPCMethod: m.Name,
	}
	fields := g.Fields(m.ParamsType)
	byName := map[string]schema.Field{}
	for _, f := range fields {
		byName[f.Name] = f
	}
	inPath := map[string]bool{}
	for _, name := range pathNames {
		inPath[name] = true
		p := &parameter{Name: name, In: "path", Required: true, Schema: &schema.Schema{Type: "string"}}
		if f, ok := byName[name]; ok {
			p.Schema, p.Description = f.Schema, f.Description
		}
		op.Parameters = append(op.Parameters, p)
	}
	var body []schema.Field
	for _, f := range fields {
		switch {
		case inPath[f.Name]:
		case hasBody(m.HTTP.Verb):
			body = append(body, f)
		default:
			op.Parameters = append(op.Parameters, queryParameter(f))
		}
	}
	op.Parameters = append(op.Parameters, &parameter{Ref: refParameters + paramTZ}, &parameter{Ref: refParameters + paramVersion})
	if m.Idempotent {
		op.Parameters = append(op.Parameters, &parameter{Ref: refParameters + paramIdemKey})
	}
	if m.Auth != service.Public {
		op.Parameters = append(op.Parameters, &parameter{Ref: refParameters + paramReseller})
	}
	if len(body) > 0 {
		rb := &requestBody{Content: map[string]mediaObject{"application/json": {Schema: schema.Object(body)}},
			Description: "The params as a JSON object (form fields are accepted too)."}
		for _, f := range body {
			rb.Required = rb.Required || f.Required
		}
		op.RequestBody = rb
	}

	var notes []string
	security, note := m.Auth.Security()
	op.Security = security
	if note != "" {
		notes = append(notes, note)
	}
	op.Responses[successStatus(m)] = successResponse(g, m)
	if listItem(m.ResultType) != nil {
		notes = append(notes, "Returns a bare JSON array; Link headers (rel=\"next\", rel=\"prev\") point at the neighbouring pages.")
	}
	notes = append(notes, "JSON-RPC: `"+m.Name+"`.")
	op.Description = strings.Join(notes, " ")
	for status, codes := range errorStatuses(m) {
		op.Responses[strconv.Itoa(status)] = errorResponse(codes)
	}
	return op
}

// queryParameter is a params field sent in the query string. Lists are
// repeated (or comma-separated) values; objects are JSON.
func queryParameter(f schema.Field) *parameter {
	p := &parameter{Name: f.Name, In: "query", Required: f.Required, Description: f.Description, Schema: f.Schema}
	switch {
	case f.Item != nil:
		// One value or a list: in a query string, a list of any length.
		p.Schema = &schema.Schema{Type: "array", Items: f.Item}
		p.Explode = ptr(true)
		p.Description = joinSentences(f.Doc, "One value or several: repeat the parameter or separate the values with commas.")
	case f.Schema.Type == "array":
		p.Explode = ptr(true)
		p.Description = joinSentences(p.Description, "Several values: repeat the parameter or separate the values with commas.")
	case f.Schema.Type == "object" || f.Schema.Ref != "":
		p.Schema = nil
		p.Content = map[string]mediaObject{"application/json": {Schema: f.Schema}}
	}
	if p.Schema != nil && p.Description != "" && p.Schema.Description == p.Description {
		cp := *p.Schema
		cp.Description = ""
		p.Schema = &cp
	}
	return p
}

func successStatus(m *service.Method) string {
	if m.HTTP.Created {
		return "201"
	}
	return "200"
}

func successResponse(g *schema.Generator, m *service.Method) *response {
	r := &response{Description: "The result.", Headers: map[string]*header{}}
	if m.HTTP.Created {
		r.Description = "Created: the stored object."
		r.Headers["Location"] = &header{Description: "The path of the created object.", Schema: &schema.Schema{Type: "string"}}
	}
	if listItem(m.ResultType) != nil {
		r.Description = "The matching objects, as a bare JSON array."
		r.Headers["Link"] = &header{Description: "The next and previous pages (rel=\"next\", rel=\"prev\"), when there are any.",
			Schema: &schema.Schema{Type: "string"}}
	}
	if len(r.Headers) == 0 {
		r.Headers = nil
	}
	if m.HTTP.Raw != "" {
		// The bytes themselves: a media type without a schema (OpenAPI 3.1's
		// way for binary content), the one the result names when it does.
		ct := "application/octet-stream"
		if t := m.ResultType; t != nil {
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if c, ok := reflect.New(t).Interface().(contentTyper); ok && c.ContentType() != "" {
				ct = c.ContentType()
			}
		}
		r.Description = "The " + m.HTTP.Raw + " of the result, as it is (JSON-RPC: base64 in the result object)."
		r.Content = map[string]mediaObject{ct: {}}
		return r
	}
	r.Content = map[string]mediaObject{"application/json": {Schema: g.Schema(m.ResultType)}}
	return r
}

// errorStatuses groups the codes a REST call of m can fail with by HTTP
// status: the method's own (service.ErrorCodes) and the transport's (a
// malformed query string or body, a body over the limit).
func errorStatuses(m *service.Method) map[int][]service.Code {
	codes := append(m.ErrorCodes(), service.CodeInvalidRequest)
	if hasBody(m.HTTP.Verb) {
		codes = append(codes, service.CodeParseError, service.CodeTooLarge)
	}
	out := map[int][]service.Code{}
	for _, c := range codes {
		s := HTTPStatus(c)
		out[s] = append(out[s], c)
	}
	return out
}

// describeCodes is the description of an error response: its codes.
func describeCodes(codes []service.Code) string {
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = string(c) + " (" + strconv.FormatInt(c.Number(), 10) + ")"
	}
	return http.StatusText(HTTPStatus(codes[0])) + ": " + strings.Join(parts, ", ") + "."
}

// listItem returns the element type of a list result (ItemType()), or nil.
func listItem(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if it, ok := reflect.New(t).Interface().(interface{ ItemType() reflect.Type }); ok {
		return it.ItemType()
	}
	return nil
}

// openAPIPath turns an echo path (/clients/:id) into an OpenAPI one
// (/clients/{id}) and returns the parameter names.
func openAPIPath(p string) (string, []string) {
	segs := strings.Split(p, "/")
	var names []string
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			names = append(names, name)
			segs[i] = "{" + name + "}"
		}
	}
	return strings.Join(segs, "/"), names
}

// tagOf groups methods by their name without the last part (clients.accounts.get → clients.accounts).
func tagOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

// hasBody reports whether REST reads the params of verb from a body (the
// others take them from the query string).
func hasBody(verb string) bool {
	switch strings.ToUpper(verb) {
	case http.MethodGet, http.MethodDelete, http.MethodHead:
		return false
	}
	return true
}

func infoDescription(v service.Version) string {
	return "Every method is served twice: as the REST route documented here and as a JSON-RPC 2.0 method " +
		"(POST / with the method name of each operation's x-jsonrpc-method; its OpenRPC document is at /openrpc.json " +
		"and from the rpc.discover method).\n\n" +
		"Authentication: an API key in X-Api-Key (or as the user name of HTTP Basic); JWTs (Authorization: Bearer) are " +
		"deprecated. Keys starting test_ see only test-mode objects. Datetimes are RFC 3339; `__tz` renders them in " +
		"another zone. Errors are `{\"error\": {\"code\", \"message\", \"data\": {\"code\", \"fields\", \"reason\"}}}` with " +
		"the HTTP status of their code. This document describes API version " + firstNonEmpty(v.APIVersion, "latest") +
		"; older versions (X-Api-Version, or a key's pinned one) differ as GET /versions says.\n\nServer version: " + firstNonEmpty(v.Version, "unknown") + "."
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func joinSentences(a, b string) string {
	if a == "" {
		return b
	}
	if !strings.HasSuffix(a, ".") {
		a += "."
	}
	return a + " " + b
}

func cloneRef(s *schema.Schema) *schema.Schema {
	cp := *s
	return &cp
}

func ptr[T any](v T) *T { return &v }

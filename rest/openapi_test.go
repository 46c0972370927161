package rest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/billgate/billgate/service"
)

// docService is the real service (every method of billgate, no store) with
// the test methods of setup_test.go added.
func docService(t *testing.T) *service.Service {
	t.Helper()
	svc := service.New(service.Config{Name: "billgate", Version: "test", APIVersion: "2026-11-21"}, nil, nil, nil)
	registerTestMethods(svc.Registry())
	return svc
}

// openAPIModel validates the document of svc with libopenapi-validator
// (against the OpenAPI 3.1 schema) and returns its model.
func openAPIModel(t *testing.T, b []byte) (*v3.Document, validator.Validator) {
	t.Helper()
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("the OpenAPI document does not build: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("invalid: %s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  at %s (%s): %s", se.FieldPath, se.KeywordLocation, se.Reason)
			}
		}
		t.FailNow()
	}
	return &model.Model, v
}

// TestOpenAPIDocument validates the document with a real OpenAPI 3.1
// validator and checks, for every registered method with a route, its
// operation: parameters, body, responses, errors and security.
func TestOpenAPIDocument(t *testing.T) {
	svc := docService(t)
	b, err := OpenAPI(svc)
	if err != nil {
		t.Fatal(err)
	}
	model, _ := openAPIModel(t, b)
	if model.Version != OpenAPIVersion {
		t.Errorf("openapi %q", model.Version)
	}
	for _, name := range []string{service.SchemeAPIKey, service.SchemeBasic, service.SchemeBearer} {
		if _, ok := model.Components.SecuritySchemes.Get(name); !ok {
			t.Errorf("security scheme %s missing", name)
		}
	}
	key, _ := model.Components.SecuritySchemes.Get(service.SchemeAPIKey)
	if key.Type != "apiKey" || key.In != "header" || key.Name != "X-Api-Key" {
		t.Errorf("ApiKey scheme %+v", key)
	}
	bearer, _ := model.Components.SecuritySchemes.Get(service.SchemeBearer)
	if dep, ok := bearer.Extensions.Get("x-deprecated"); !ok || dep.Value != "true" {
		t.Errorf("the Bearer scheme is not marked deprecated")
	}

	seen := 0
	for _, m := range svc.Registry().Methods() {
		if m.HTTP.Path == "" {
			continue
		}
		seen++
		path, names := openAPIPath(m.HTTP.Path)
		item, ok := model.Paths.PathItems.Get(path)
		if !ok {
			t.Errorf("%s: path %s missing", m.Name, path)
			continue
		}
		op := item.GetOperations().GetOrZero(strings.ToLower(m.HTTP.Verb))
		if op == nil || op.OperationId != m.Name {
			t.Errorf("registered method %s is missing from the OpenAPI document (%s %s)", m.Name, m.HTTP.Verb, path)
			continue
		}
		checkOperation(t, m, op, names)
	}
	if seen < 40 {
		t.Errorf("only %d routes: the real registry is not in the document", seen)
	}
}

func checkOperation(t *testing.T, m *service.Method, op *v3.Operation, pathNames []string) {
	t.Helper()
	params := map[string]*v3.Parameter{}
	for _, p := range op.Parameters {
		if p.GoLow() != nil && p.Name == "" {
			t.Errorf("%s: unresolved parameter", m.Name)
			continue
		}
		params[p.In+" "+p.Name] = p
	}
	for _, name := range pathNames {
		p := params["path "+name]
		if p == nil || p.Required == nil || !*p.Required {
			t.Errorf("%s: path param %s missing or optional", m.Name, name)
		}
	}
	if params["query __tz"] == nil {
		t.Errorf("%s: no __tz", m.Name)
	}
	if (params["header Idempotency-Key"] != nil) != m.Idempotent {
		t.Errorf("%s: Idempotency-Key documented %v, idempotent %v", m.Name, params["header Idempotency-Key"] != nil, m.Idempotent)
	}
	var documented []string
	for k, p := range params {
		if p.In == "query" && p.Name != "__tz" {
			documented = append(documented, strings.TrimPrefix(k, "query "))
		}
	}
	if op.RequestBody != nil {
		mt, ok := op.RequestBody.Content.Get("application/json")
		if !ok {
			t.Fatalf("%s: body without JSON", m.Name)
		}
		s := mt.Schema.Schema()
		for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
			documented = append(documented, pair.Key)
		}
		for _, r := range s.Required {
			if !slices.Contains(m.ParamNames(), r) {
				t.Errorf("%s: required body field %s is not a param", m.Name, r)
			}
		}
		if hasBody(m.HTTP.Verb) == false {
			t.Errorf("%s: a %s with a body", m.Name, m.HTTP.Verb)
		}
	}
	documented = append(documented, pathNames...)
	want := m.ParamNames()
	sort.Strings(documented)
	sort.Strings(want)
	if !slices.Equal(documented, want) {
		t.Errorf("%s: params %v, want %v", m.Name, documented, want)
	}

	success := "200"
	if m.HTTP.Created {
		success = "201"
	}
	resp, ok := op.Responses.Codes.Get(success)
	if !ok {
		t.Fatalf("%s: no %s response", m.Name, success)
	}
	hasHeader := func(name string) bool {
		if resp.Headers == nil {
			return false
		}
		_, ok := resp.Headers.Get(name)
		return ok
	}
	if ok := hasHeader("Location"); ok != m.HTTP.Created {
		t.Errorf("%s: Location header %v, created %v", m.Name, ok, m.HTTP.Created)
	}
	if ok := hasHeader("Link"); ok != (listItem(m.ResultType) != nil) {
		t.Errorf("%s: Link header %v", m.Name, ok)
	}
	for status, codes := range errorStatuses(m) {
		r, ok := op.Responses.Codes.Get(strconv.Itoa(status))
		if !ok {
			t.Errorf("%s: no %d response", m.Name, status)
			continue
		}
		for _, c := range codes {
			if !strings.Contains(r.Description, string(c)) {
				t.Errorf("%s: %d response does not name %s", m.Name, status, c)
			}
		}
	}
	for _, c := range []service.Code{service.CodeInvalidParams, service.CodeInternal, service.CodeUnavailable} {
		if _, ok := op.Responses.Codes.Get(strconv.Itoa(HTTPStatus(c))); !ok {
			t.Errorf("%s: %s not documented", m.Name, c)
		}
	}
	_, has401 := op.Responses.Codes.Get("401")
	switch {
	case m.Auth == service.Public:
		if op.Security == nil || len(op.Security) != 0 {
			t.Errorf("%s: public but security %v", m.Name, op.Security)
		}
	case m.Auth == service.JWTOnly:
		if len(op.Security) != 1 || !hasKey(op.Security[0], service.SchemeBearer) {
			t.Errorf("%s: JWT only, security %v", m.Name, op.Security)
		}
		fallthrough
	default:
		if !has401 {
			t.Errorf("%s: needs credentials, no 401", m.Name)
		}
		if _, ok := op.Responses.Codes.Get("404"); !ok {
			t.Errorf("%s: no 404", m.Name)
		}
	}
	if m.Auth == service.Authenticated && len(op.Security) != 3 {
		t.Errorf("%s: security %v, want any of the three schemes", m.Name, op.Security)
	}
}

// Spot checks of what the types say, as the document renders it.
func TestOpenAPIShapes(t *testing.T) {
	b, err := OpenAPI(docService(t))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas   map[string]json.RawMessage `json:"schemas"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	has := func(where, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %s\n%s", where, w, got)
			}
		}
	}
	has("clients.get", string(doc.Paths["/clients/{id}"]["get"]),
		`{"name":"id","in":"path","required":true,"schema":{"type":"integer"}}`,
		`"200":{"description":"The result.","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Client"}}}}`,
		`"404":{"$ref":"#/components/responses/not_found"}`,
		`"security":[{"ApiKey":[]},{"Basic":[]},{"Bearer":[]}]`)
	has("clients.search", string(doc.Paths["/clients"]["get"]),
		`{"name":"id","in":"query","description":"One value or several: repeat the parameter or separate the values with commas.","schema":{"items":{"type":"integer"},"type":"array"},"explode":true}`,
		`{"name":"limit","in":"query","description":"rows to return (default 20, max 1000)","schema":{"type":"integer"}}`,
		`{"name":"start_at","in":"query","description":"created at or after","schema":{"type":"string","format":"date-time"}}`,
		`"schema":{"items":{"$ref":"#/components/schemas/Client"},"type":"array"}`,
		`"headers":{"Link":`)
	has("clients.create", string(doc.Paths["/clients"]["post"]),
		`"201":{"description":"Created: the stored object.","headers":{"Location":`,
		`"status":{"type":"string","enum":["active","suspended","archived"],"description":"default active"}`,
		`"resellers_id":{"anyOf":[{"type":"integer"},{"type":"null"}],`,
		`"metadata":{"anyOf":[{"type":"object"},{"type":"null"}]}`,
		`"required":["name"]`,
		`{"$ref":"#/components/parameters/IdempotencyKey"}`,
		`"409":`, `"413":`, `"422":`)
	has("system.version", string(doc.Paths["/"]["get"]), `"security":[]`, `"x-jsonrpc-method":"system.version"`)
	has("the not_found response", string(doc.Components.Responses["not_found"]),
		`"description":"Not Found: not_found (-32001)."`, `"schema":{"$ref":"#/components/schemas/Error"}`)
	has("the 400 response of bodies", string(doc.Components.Responses["invalid_params-invalid_request-parse_error"]),
		`"description":"Bad Request: invalid_params (-32602), invalid_request (-32600), parse_error (-32700)."`)
	has("Client", string(doc.Components.Schemas["Client"]),
		`"created_at":{"type":"string","format":"date-time"}`,
		`"required":["id","name","status","resellers_id"`)
	has("ExchangeRate", string(doc.Components.Schemas["ExchangeRate"]), `"rate":{"type":"string","description":"a decimal string"}`)
	has("ErrorData", string(doc.Components.Schemas["ErrorData"]), `"enum":["parse_error","invalid_request"`)
	if strings.Contains(string(b), "Page") {
		t.Error("a list result is documented as an object")
	}
}

// The validator behind TestOpenAPIDocument is not vacuous: broken documents fail.
func TestOpenAPIValidatorRejects(t *testing.T) {
	b, err := OpenAPI(docService(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, breakIt := range map[string]func(m map[string]any){
		"no info": func(m map[string]any) { delete(m, "info") },
		"response description": func(m map[string]any) {
			delete(op(m, "/clients/{id}", "get")["responses"].(map[string]any)["200"].(map[string]any), "description")
		},
		"parameter location": func(m map[string]any) {
			op(m, "/clients/{id}", "get")["parameters"].([]any)[0].(map[string]any)["in"] = "body"
		},
		"security scheme type": func(m map[string]any) {
			m["components"].(map[string]any)["securitySchemes"].(map[string]any)["ApiKey"].(map[string]any)["type"] = "magic"
		},
	} {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		breakIt(m)
		raw, _ := json.Marshal(m)
		doc, err := libopenapi.NewDocument(raw)
		if err != nil {
			continue // refused outright
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			continue
		}
		if ok, _ := v.ValidateDocument(); ok {
			t.Errorf("%s: the validator accepted it", name)
		}
	}
}

func hasKey(r *base.SecurityRequirement, name string) bool {
	if r == nil || r.Requirements == nil {
		return false
	}
	_, ok := r.Requirements.Get(name)
	return ok
}

func op(m map[string]any, path, verb string) map[string]any {
	return m["paths"].(map[string]any)[path].(map[string]any)[verb].(map[string]any)
}

// Real error bodies match the Error schema of the document, for every code.
func TestOpenAPIErrorSchema(t *testing.T) {
	b, err := OpenAPI(docService(t))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("mem://openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem://openapi.json#/components/schemas/Error")
	if err != nil {
		t.Fatal(err)
	}
	e := New(docService(t), Options{})
	for _, code := range service.AllCodes {
		se := &service.Error{Code: code, Message: "m", Fields: map[string]string{"x": "bad"}, Reason: "why", Err: errors.New("cause")}
		e.GET("/fail/"+string(code), func(echo.Context) error { return se })
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/fail/"+string(code), nil))
		body, err := jsonschema.UnmarshalJSON(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(body); err != nil {
			t.Errorf("%s: %s does not match the Error schema: %v", code, rec.Body, err)
		}
		var strict errorDoc
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&strict); err != nil {
			t.Errorf("%s: %s has fields errorDoc lacks: %v", code, rec.Body, err)
		}
	}
	if err := s.Validate(map[string]any{"error": map[string]any{"code": json.Number("-32001"), "message": "m", "data": map[string]any{"code": "nope"}}}); err == nil {
		t.Error("the Error schema accepts an unknown code")
	}
}

// GET /openapi.json serves the document generated at start-up.
func TestOpenAPIServed(t *testing.T) {
	svc := docService(t)
	want, err := OpenAPI(svc)
	if err != nil {
		t.Fatal(err)
	}
	e := New(svc, Options{})
	rec := get(e, OpenAPIPath, nil)
	if rec.Code != http.StatusOK || rec.Body.String() != string(want) || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", rec.Code, rec.Header())
	}
	rec = get(e, OpenAPIPath, map[string]string{"If-None-Match": rec.Header().Get("ETag")})
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("conditional GET: %d", rec.Code)
	}
	rec = get(e, OpenAPIPath, map[string]string{"Accept-Encoding": "br, gzip;q=0.5"})
	if rec.Header().Get("Content-Encoding") != "gzip" || gunzip(t, rec.Body.Bytes()) != string(want) {
		t.Errorf("gzip: %q", rec.Header().Get("Content-Encoding"))
	}
	rec = get(e, OpenAPIPath, map[string]string{"Accept-Encoding": "gzip;q=0"})
	if rec.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refuses it")
	}
}

// GET /docs serves the embedded Swagger UI, pointed at /openapi.json.
func TestDocsPage(t *testing.T) {
	e := New(docService(t), Options{})
	for _, p := range []string{DocsPath, DocsPath + "/"} {
		rec := get(e, p, nil)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("GET %s: %d %s", p, rec.Code, rec.Header())
		}
		for _, want := range []string{`src="/docs/swagger-ui-bundle.js"`, `src="/docs/swagger-ui-standalone-preset.js"`, `src="/docs/init.js"`, `href="/docs/swagger-ui.css"`} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s lacks %s", p, want)
			}
		}
		if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", p, rec.Header().Get("Content-Security-Policy"))
		}
	}
	init := get(e, DocsPath+"/init.js", nil).Body.String()
	for _, want := range []string{`url: "/openapi.json"`, "persistAuthorization: true", "validatorUrl: null", "SwaggerUIStandalonePreset"} {
		if !strings.Contains(init, want) {
			t.Errorf("init.js lacks %s", want)
		}
	}
	for file, ct := range map[string]string{
		"swagger-ui-bundle.js":            "text/javascript",
		"swagger-ui-standalone-preset.js": "text/javascript",
		"swagger-ui.css":                  "text/css",
	} {
		rec := get(e, DocsPath+"/"+file, map[string]string{"Accept-Encoding": "gzip"})
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), ct) {
			t.Errorf("%s: %d %s", file, rec.Code, rec.Header().Get("Content-Type"))
			continue
		}
		raw, _ := docsFS.ReadFile("docs/" + file)
		if gunzip(t, rec.Body.Bytes()) != string(raw) {
			t.Errorf("%s: the gzipped body is not the file", file)
		}
	}
	for _, p := range []string{DocsPath + "/README.md", DocsPath + "/LICENSE", DocsPath + "/../openapi.json.x"} {
		if rec := get(e, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
}

func get(h http.Handler, path string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

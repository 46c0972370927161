package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// apiDoc is the OpenAPI document a booted server serves, with a validator
// for requests and responses.
type apiDoc struct {
	model *v3.Document
	v     validator.Validator
	ops   map[string]docOp // by operationId
}

type docOp struct {
	verb, path string
	op         *v3.Operation
}

func loadAPIDoc(t *testing.T, s *server) *apiDoc {
	t.Helper()
	status, h, b := s.raw(t, auth{}, "GET", "/openapi.json", "", nil)
	if status != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", status, h.Get("Content-Type"))
	}
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Fatalf("the served OpenAPI document is invalid: %v", verrs)
	}
	d := &apiDoc{model: &model.Model, v: v, ops: map[string]docOp{}}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for verb, op := range item.GetOperations().FromOldest() {
			d.ops[op.OperationId] = docOp{verb: strings.ToUpper(verb), path: path, op: op}
		}
	}
	return d
}

// request builds the HTTP request of operation opID from the document alone:
// the server URL, the path template, each param where the document puts it
// (path, query — lists as repeated values — or the JSON body).
func (d *apiDoc) request(t *testing.T, base, opID string, params map[string]any) *http.Request {
	t.Helper()
	o, ok := d.ops[opID]
	if !ok {
		t.Fatalf("operation %s is not in the document", opID)
	}
	rest := map[string]any{}
	for k, v := range params {
		rest[k] = v
	}
	path := o.path
	q := url.Values{}
	for _, p := range o.op.Parameters {
		v, given := rest[p.Name]
		if !given {
			if p.Required != nil && *p.Required {
				t.Fatalf("%s: required %s param %s not given", opID, p.In, p.Name)
			}
			continue
		}
		delete(rest, p.Name)
		switch p.In {
		case "path":
			path = strings.Replace(path, "{"+p.Name+"}", url.PathEscape(fmt.Sprint(v)), 1)
		case "query":
			for _, s := range queryValues(v) {
				q.Add(p.Name, s)
			}
		default:
			t.Fatalf("%s: param %s in %s", opID, p.Name, p.In)
		}
	}
	var body []byte
	if len(rest) > 0 {
		if o.op.RequestBody == nil {
			t.Fatalf("%s: params %v are not in the document", opID, sortedKeys(rest))
		}
		body, _ = json.Marshal(rest)
	}
	server := "/"
	if len(d.model.Servers) > 0 {
		server = d.model.Servers[0].URL
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u = u.JoinPath(server, path)
	u.RawQuery = q.Encode()
	req, err := http.NewRequest(o.verb, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func queryValues(v any) []string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		out := make([]string, rv.Len())
		for i := range out {
			out[i] = fmt.Sprint(rv.Index(i).Interface())
		}
		return out
	}
	if m, ok := v.(map[string]any); ok {
		b, _ := json.Marshal(m)
		return []string{string(b)}
	}
	return []string{fmt.Sprint(v)}
}

// authorize sets the credentials as the document's security scheme says.
func (d *apiDoc) authorize(t *testing.T, req *http.Request, scheme, key string) {
	t.Helper()
	ss, ok := d.model.Components.SecuritySchemes.Get(scheme)
	if !ok {
		t.Fatalf("no security scheme %s", scheme)
	}
	switch {
	case ss.Type == "apiKey" && ss.In == "header":
		req.Header.Set(ss.Name, key)
	case ss.Type == "http" && ss.Scheme == "basic":
		req.SetBasicAuth(key, "")
	default:
		t.Fatalf("scheme %s: %s %s", scheme, ss.Type, ss.In)
	}
}

// send validates req against the document, sends it, and validates the
// response; it returns the status and body.
func (d *apiDoc) send(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	return d.exchange(t, req, true)
}

// exchange is send, checking the request only when checkRequest is set (a
// request without the credentials the document asks for is not valid).
func (d *apiDoc) exchange(t *testing.T, req *http.Request, checkRequest bool) (int, http.Header, []byte) {
	t.Helper()
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := d.v.ValidateHttpRequest(req); checkRequest && !ok {
		t.Errorf("%s %s: the request does not match the document: %s", req.Method, req.URL, validationErrors(errs))
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	req.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := d.v.ValidateHttpResponse(req, resp); !ok {
		t.Errorf("%s %s: the %d response does not match the document: %s\n%s", req.Method, req.URL, resp.StatusCode, validationErrors(errs), clipBody(rb))
	}
	return resp.StatusCode, resp.Header, rb
}

func validationErrors[E interface{ Error() string }](errs []E) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func clipBody(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// TestOpenAPIAgainstServer builds requests from the served OpenAPI document
// alone and checks that they work on a booted server, and that every
// registered method's real answer (its parity case) matches the document —
// over REST against the OpenAPI document, over JSON-RPC against the OpenRPC
// one (rpc.discover and GET /openrpc.json).
func TestOpenAPIAgainstServer(t *testing.T) {
	s := startServer(t, "sqlite://"+filepath.Join(t.TempDir(), "billgate.db"), nil)
	d := loadAPIDoc(t, s)

	t.Run("clients.get from the document", func(t *testing.T) {
		req := d.request(t, s.URL, "clients.create", map[string]any{"name": "Docs Ltd", "email": "docs@example.com"})
		d.authorize(t, req, "ApiKey", adminKey)
		status, h, b := d.send(t, req)
		var created struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
		if status != http.StatusCreated || json.Unmarshal(b, &created) != nil || created.ID == 0 {
			t.Fatalf("clients.create: %d %s", status, b)
		}
		if want := "/clients/" + strconv.FormatInt(created.ID, 10); h.Get("Location") != want {
			t.Errorf("Location %q, want %q", h.Get("Location"), want)
		}
		for _, scheme := range []string{"ApiKey", "Basic"} {
			req = d.request(t, s.URL, "clients.get", map[string]any{"id": created.ID, "__tz": "Asia/Tokyo"})
			d.authorize(t, req, scheme, adminKey)
			status, _, b = d.send(t, req)
			var got struct {
				ID        int64  `json:"id"`
				Name      string `json:"name"`
				CreatedAt string `json:"created_at"`
			}
			if status != http.StatusOK || json.Unmarshal(b, &got) != nil || got.ID != created.ID || got.Name != "Docs Ltd" ||
				!strings.HasSuffix(got.CreatedAt, "+09:00") {
				t.Errorf("clients.get via %s: %d %s", scheme, status, b)
			}
		}
		// The response check is not vacuous: a client with a status the
		// document does not allow, or without its id, fails it.
		for _, bad := range []string{
			strings.Replace(string(b), `"status":"active"`, `"status":"bogus"`, 1),
			strings.Replace(string(b), fmt.Sprintf(`"id":%d,`, created.ID), "", 1),
		} {
			if bad == string(b) {
				t.Fatalf("cannot corrupt %s", b)
			}
			resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(bad)), Request: req}
			if ok, _ := d.v.ValidateHttpResponse(req, resp); ok {
				t.Errorf("the validator accepted %s", bad)
			}
		}
		req = d.request(t, s.URL, "clients.get", map[string]any{"id": 999999})
		d.authorize(t, req, "ApiKey", adminKey)
		if status, _, b := d.send(t, req); status != http.StatusNotFound {
			t.Errorf("missing client: %d %s", status, b)
		}
		req = d.request(t, s.URL, "clients.get", map[string]any{"id": created.ID})
		if status, _, b := d.exchange(t, req, false); status != http.StatusUnauthorized {
			t.Errorf("without credentials: %d %s", status, b)
		}
		req = d.request(t, s.URL, "clients.search", map[string]any{"id": []int64{created.ID, 999999}, "limit": 5, "order": []string{"-id"}})
		d.authorize(t, req, "ApiKey", adminKey)
		if status, _, b := d.send(t, req); status != http.StatusOK || !strings.Contains(string(b), `"Docs Ltd"`) {
			t.Errorf("clients.search: %d %s", status, b)
		}
	})

	t.Run("every method matches both documents", func(t *testing.T) {
		w := newWorld(t, s)
		rpcDoc, results := openRPCResults(t, s)
		for _, m := range registry(t).Methods() {
			c, ok := parityCases[m.Name]
			if !ok {
				t.Errorf("%s has no parity case", m.Name)
				continue
			}
			t.Run(m.Name, func(t *testing.T) {
				if m.HTTP.Path != "" {
					a, params, _ := c(t, w)
					req := d.request(t, s.URL, m.Name, params)
					a.apply(req)
					if status, _, b := d.send(t, req); status >= 300 {
						t.Errorf("REST: %d %s", status, clipBody(b))
					}
				}
				a, params, _ := c(t, w)
				checkRPCParams(t, rpcDoc, m.Name, params)
				r := s.rpc(t, a, m.Name, params)
				if r.Err != nil {
					t.Fatalf("JSON-RPC: %d %s", r.Err.Code, r.Err.Message)
				}
				sch := results[m.Name]
				if sch == nil {
					t.Fatalf("%s is not in the OpenRPC document", m.Name)
				}
				v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Result))
				if err != nil {
					t.Fatal(err)
				}
				if err := sch.Validate(v); err != nil {
					t.Errorf("the JSON-RPC result does not match the OpenRPC document: %v\n%s", err, clipBody(r.Result))
				}
			})
		}
	})
}

// openRPCResults fetches the OpenRPC document with rpc.discover, checks GET
// /openrpc.json serves the same, and compiles each method's result schema.
func openRPCResults(t *testing.T, s *server) (map[string]map[string]paramDoc, map[string]*jsonschema.Schema) {
	t.Helper()
	r := s.rpc(t, auth{}, "rpc.discover", map[string]any{})
	if r.Err != nil {
		t.Fatalf("rpc.discover: %+v", r.Err)
	}
	status, _, served := s.raw(t, auth{}, "GET", "/openrpc.json", "", nil)
	var a, b any
	if status != http.StatusOK || json.Unmarshal(served, &a) != nil || json.Unmarshal(r.Result, &b) != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("GET /openrpc.json (%d) is not the rpc.discover document", status)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Result))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem://openrpc.json", doc); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Methods []struct {
			Name   string `json:"name"`
			Params []struct {
				Name     string `json:"name"`
				Required bool   `json:"required"`
			} `json:"params"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(r.Result, &parsed); err != nil {
		t.Fatal(err)
	}
	params := map[string]map[string]paramDoc{}
	results := map[string]*jsonschema.Schema{}
	for i, m := range parsed.Methods {
		prefix := "mem://openrpc.json#/methods/" + strconv.Itoa(i)
		if results[m.Name], err = c.Compile(prefix + "/result/schema"); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		params[m.Name] = map[string]paramDoc{}
		for j, p := range m.Params {
			s, err := c.Compile(prefix + "/params/" + strconv.Itoa(j) + "/schema")
			if err != nil {
				t.Fatalf("%s %s: %v", m.Name, p.Name, err)
			}
			params[m.Name][p.Name] = paramDoc{s, p.Required}
		}
	}
	return params, results
}

type paramDoc struct {
	schema   *jsonschema.Schema
	required bool
}

// checkRPCParams checks a call's params against the method's OpenRPC params.
func checkRPCParams(t *testing.T, docs map[string]map[string]paramDoc, method string, params map[string]any) {
	t.Helper()
	doc := docs[method]
	for name, v := range params {
		pd, ok := doc[name]
		if !ok {
			t.Errorf("param %s is not in the OpenRPC document", name)
			continue
		}
		raw, _ := json.Marshal(v)
		val, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err := pd.schema.Validate(val); err != nil {
			t.Errorf("param %s=%s does not match the OpenRPC document: %v", name, raw, err)
		}
	}
	var missing []string
	for name, p := range doc {
		if _, given := params[name]; !given && p.required {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("required params %v not given, yet the call works", missing)
	}
}

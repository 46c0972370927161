package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/billgate/billgate/rpc"
	"github.com/billgate/billgate/service"
)

// openRPCMeta compiles the official OpenRPC meta-schema (testdata/openrpc,
// from npm) with the JSON Schema meta-schema it refers to.
func openRPCMeta(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	// The OpenRPC meta-schema refers to the JSON Schema one both with and
	// without a trailing slash.
	for _, r := range []struct{ file, url string }{
		{"openrpc-meta-schema-1.14.9.json", "https://meta.open-rpc.org/"},
		{"json-schema-tools-meta-schema-1.8.0.json", "https://meta.json-schema.tools"},
		{"json-schema-tools-meta-schema-1.8.0.json", "https://meta.json-schema.tools/"},
	} {
		file, url := r.file, r.url
		f, err := os.Open(filepath.Join("testdata", "openrpc", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Both name json-schema-tools' own dialect, which is draft-07 with titles.
		m := doc.(map[string]any)
		m["$schema"] = "http://json-schema.org/draft-07/schema#"
		m["$id"] = url
		if err := c.AddResource(url, m); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("https://meta.open-rpc.org/")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// discovered calls rpc.discover on a server of svc and returns the result.
func discovered(t *testing.T, svc *service.Service) []byte {
	t.Helper()
	srv := newServer(t, svc, rpc.Options{})
	r := srv.post(`{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}`)
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || r.status != http.StatusOK || env.Result == nil {
		t.Fatalf("rpc.discover: %d %s (%v)", r.status, r.body, err)
	}
	return env.Result
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type openRPCDoc struct {
	OpenRPC string `json:"openrpc"`
	Methods []struct {
		Name   string `json:"name"`
		Params []struct {
			Name     string          `json:"name"`
			Required bool            `json:"required"`
			Schema   json.RawMessage `json:"schema"`
		} `json:"params"`
		Result struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"result"`
		Errors []struct {
			Ref string `json:"$ref"`
		} `json:"errors"`
		Security []map[string][]string `json:"x-security"`
		REST     *struct {
			Verb string `json:"verb"`
			Path string `json:"path"`
		} `json:"x-rest"`
	} `json:"methods"`
	Components struct {
		Errors map[string]struct {
			Code int64 `json:"code"`
		} `json:"errors"`
	} `json:"components"`
	Schemes map[string]json.RawMessage `json:"x-security-schemes"`
}

// TestOpenRPCDocument validates the document rpc.discover answers against
// the official meta-schema, and checks that it has every registered method
// with its params, meta params, errors and credentials.
func TestOpenRPCDocument(t *testing.T) {
	svc := newService(t)
	b := discovered(t, svc)
	meta := openRPCMeta(t)
	if err := meta.Validate(decodeAny(t, b)); err != nil {
		t.Fatalf("the OpenRPC document is invalid: %v", err)
	}

	// The same document at GET /openrpc.json.
	rec := httptest.NewRecorder()
	rpc.OpenRPCHandler(svc).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, rpc.OpenRPCPath, nil))
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || rec.Body.String() != compact.String() || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("GET /openrpc.json: %d %s, not the rpc.discover document", rec.Code, rec.Header().Get("Content-Type"))
	}
	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest(http.MethodGet, rpc.OpenRPCPath, nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	rpc.OpenRPCHandler(svc).ServeHTTP(rec, req)
	if etag == "" || rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d", etag, rec.Code)
	}

	var doc openRPCDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenRPC != rpc.OpenRPCVersion {
		t.Errorf("openrpc %q", doc.OpenRPC)
	}
	idx := map[string]int{}
	for i, m := range doc.Methods {
		if _, dup := idx[m.Name]; dup {
			t.Errorf("method %s twice", m.Name)
		}
		idx[m.Name] = i
	}
	methods := svc.Registry().Methods()
	if len(doc.Methods) != len(methods) {
		t.Errorf("%d methods in the document, %d registered", len(doc.Methods), len(methods))
	}
	for _, m := range methods {
		i, ok := idx[m.Name]
		if !ok {
			t.Errorf("registered method %s is missing from the OpenRPC document", m.Name)
			continue
		}
		dm := doc.Methods[i]
		var got []string
		for _, p := range dm.Params {
			got = append(got, p.Name)
		}
		want := append(m.ParamNames(), "__tz")
		if m.Idempotent {
			want = append(want, "__idempotency_key")
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: params %v, want %v", m.Name, got, want)
		}
		var errs []string
		for _, e := range dm.Errors {
			name := strings.TrimPrefix(e.Ref, "#/components/errors/")
			if c, ok := doc.Components.Errors[name]; !ok || c.Code != service.Code(name).Number() {
				t.Errorf("%s: error %s is not defined with its code", m.Name, e.Ref)
			}
			errs = append(errs, name)
		}
		for _, c := range m.ErrorCodes() {
			if !slices.Contains(errs, string(c)) {
				t.Errorf("%s: error %s missing", m.Name, c)
			}
		}
		switch {
		case m.Auth == service.Public && len(dm.Security) != 0:
			t.Errorf("%s is public but needs %v", m.Name, dm.Security)
		case m.Auth != service.Public && len(dm.Security) == 0:
			t.Errorf("%s needs credentials but its x-security is empty", m.Name)
		}
		for _, alt := range dm.Security {
			for scheme := range alt {
				if doc.Schemes[scheme] == nil {
					t.Errorf("%s: scheme %s not in x-security-schemes", m.Name, scheme)
				}
			}
		}
		if (dm.REST != nil) != (m.HTTP.Path != "") {
			t.Errorf("%s: x-rest %v for route %q", m.Name, dm.REST, m.HTTP.Path)
		}
	}
	// The real methods (not only the test ones) are in.
	for _, name := range []string{"clients.get", "clients.search", "iam.auth.jwt.refresh", "system.version"} {
		if _, ok := idx[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	get := doc.Methods[idx["clients.get"]]
	if get.Params[0].Name != "id" || !get.Params[0].Required || string(get.Params[0].Schema) != `{"type":"integer"}` {
		t.Errorf("clients.get id param: %+v", get.Params[0])
	}
	if string(get.Result.Schema) != `{"$ref":"#/components/schemas/Client"}` {
		t.Errorf("clients.get result %s", get.Result.Schema)
	}
	if r := doc.Methods[idx["iam.auth.jwt.refresh"]].Security; len(r) != 1 || r[0]["Bearer"] == nil {
		t.Errorf("iam.auth.jwt.refresh security %v: want the JWT only", r)
	}
	if !strings.Contains(string(doc.Schemes["Bearer"]), `"x-deprecated":true`) {
		t.Errorf("Bearer is not marked deprecated: %s", doc.Schemes["Bearer"])
	}
}

// The meta-schema check is not vacuous: broken documents fail it.
func TestOpenRPCMetaSchemaRejects(t *testing.T) {
	svc := newService(t)
	b := discovered(t, svc)
	meta := openRPCMeta(t)
	for name, breakIt := range map[string]func(m map[string]any){
		"no info":            func(m map[string]any) { delete(m, "info") },
		"unnamed method":     func(m map[string]any) { delete(method(m, 0), "name") },
		"params not by name": func(m map[string]any) { method(m, 0)["paramStructure"] = "by-nothing" },
		"bad param schema": func(m map[string]any) {
			method(m, 0)["params"] = []any{map[string]any{"name": "x", "schema": map[string]any{"type": 5}}}
		},
		"error without code": func(m map[string]any) {
			m["components"].(map[string]any)["errors"] = map[string]any{"x": map[string]any{"message": "m"}}
		},
	} {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		breakIt(m)
		raw, _ := json.Marshal(m)
		if err := meta.Validate(decodeAny(t, raw)); err == nil {
			t.Errorf("%s: the meta-schema accepted it", name)
		}
	}
}

func method(m map[string]any, i int) map[string]any {
	return m["methods"].([]any)[i].(map[string]any)
}

type widget struct {
	ID     int64          `json:"id"`
	Kind   string         `json:"kind" enum:"a,b"`
	Parent *int64         `json:"parent_id"`
	Meta   map[string]any `json:"metadata"`
	At     time.Time      `json:"at"`
	Rate   service.Rate   `json:"rate"`
	Note   string         `json:"note,omitempty"`
}

type widgetSearch struct {
	service.ListParams
	ID   service.IDs     `json:"id"`
	Kind service.Strings `json:"kind" enum:"a,b"`
}

type widgetCreate struct {
	Kind   string        `json:"kind" required:"true" enum:"a,b"`
	Parent *int64        `json:"parent_id"`
	At     *service.Time `json:"at"`
	Rate   *service.Rate `json:"rate"`
}

// registerWidgets adds methods whose types have every shape the documents
// describe: enums, nullable fields, datetimes, decimals, lists, filters.
func registerWidgets(r *service.Registry) {
	service.Register(r, service.Decl[service.IDParams, *widget]{Name: "test.widgets.get",
		Do: func(context.Context, *service.IDParams) (*widget, error) { return nil, nil }})
	service.Register(r, service.Decl[widgetSearch, *service.Page[*widget]]{Name: "test.widgets.search",
		Do: func(context.Context, *widgetSearch) (*service.Page[*widget], error) { return nil, nil }})
	service.Register(r, service.Decl[widgetCreate, *widget]{Name: "test.widgets.create", Idempotent: true,
		Do: func(context.Context, *widgetCreate) (*widget, error) { return nil, nil }})
}

// TestOpenRPCSchemas compiles the params and result schemas of the document
// (JSON Schema 2020-12, references into components) and checks them against
// values encoded from the Go types they describe.
func TestOpenRPCSchemas(t *testing.T) {
	svc := newService(t)
	registerWidgets(svc.Registry())
	b := discovered(t, svc)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("mem://openrpc.json", decodeAny(t, b)); err != nil {
		t.Fatal(err)
	}
	var doc openRPCDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	schemaOf := map[string]*jsonschema.Schema{}
	for i, m := range doc.Methods {
		for j, p := range m.Params {
			loc := "mem://openrpc.json#/methods/" + strconv.Itoa(i) + "/params/" + strconv.Itoa(j) + "/schema"
			s, err := c.Compile(loc)
			if err != nil {
				t.Fatalf("%s param %s: %v", m.Name, p.Name, err)
			}
			schemaOf[m.Name+" "+p.Name] = s
		}
		s, err := c.Compile("mem://openrpc.json#/methods/" + strconv.Itoa(i) + "/result/schema")
		if err != nil {
			t.Fatalf("%s result: %v", m.Name, err)
		}
		schemaOf[m.Name] = s
	}
	parent := int64(7)
	full := &widget{ID: 1, Kind: "a", Parent: &parent, Meta: map[string]any{"k": 1}, At: time.Now(), Note: "n"}
	if err := json.Unmarshal([]byte(`"1.0842"`), &full.Rate); err != nil {
		t.Fatal(err)
	}
	bare := &widget{ID: 2, Kind: "b"}
	cases := []struct {
		schema string
		value  any
		ok     bool
	}{
		{"test.widgets.get", full, true},
		{"test.widgets.get", bare, true}, // nulls, no note
		{"test.widgets.get", &widget{ID: 3, Kind: "c"}, false},
		{"test.widgets.get", map[string]any{"id": 1, "kind": "a"}, false}, // fields missing
		{"test.widgets.get", map[string]any{"id": "1", "kind": "a", "parent_id": nil, "metadata": nil, "at": "2025-01-31T10:00:00Z", "rate": "1"}, false},
		{"test.widgets.search", service.NewPage([]*widget{full, bare}, service.Query{Limit: 20}), true},
		{"test.widgets.search", service.NewPage([]*widget(nil), service.Query{Limit: 20}), true},
		{"test.widgets.search", full, false},
		{"test.widgets.search id", 1, true},
		{"test.widgets.search id", []int{1, 2}, true},
		{"test.widgets.search id", nil, true},
		{"test.widgets.search id", "x", false},
		{"test.widgets.search kind", []string{"a", "b"}, true},
		{"test.widgets.search kind", "a", true},
		{"test.widgets.search kind", []string{"a", "z"}, false},
		{"test.widgets.search limit", 5, true},
		{"test.widgets.search limit", "5", false},
		{"test.widgets.create kind", "b", true},
		{"test.widgets.create kind", "gone", false},
		{"test.widgets.create parent_id", nil, true},
		{"test.widgets.create at", "2025-01-31T10:00:00Z", true},
		{"test.widgets.create rate", "1.0842", true},
		{"test.widgets.create __idempotency_key", strings.Repeat("k", 255), true},
		{"test.widgets.create __idempotency_key", strings.Repeat("k", 256), false},
		{"test.subtract", 3, true},
		{"test.subtract", "3", false},
		{"test.subtract minuend", 5, true},
	}
	for _, tc := range cases {
		s := schemaOf[tc.schema]
		if s == nil {
			t.Errorf("no schema %q", tc.schema)
			continue
		}
		raw, err := json.Marshal(tc.value)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Validate(decodeAny(t, raw))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %s: valid %v, want %v (%v)", tc.schema, raw, err == nil, tc.ok, err)
		}
	}
	var create struct {
		Params []struct {
			Name     string `json:"name"`
			Required bool   `json:"required"`
		} `json:"params"`
	}
	for i, m := range doc.Methods {
		if m.Name == "test.widgets.create" {
			raw, _ := json.Marshal(doc.Methods[i])
			_ = json.Unmarshal(raw, &create)
		}
	}
	for _, p := range create.Params {
		if p.Required != (p.Name == "kind") {
			t.Errorf("test.widgets.create %s: required %v", p.Name, p.Required)
		}
	}
}

// rpc.discover needs no credentials, ignores params, and is answered in
// batches; a notification of it gets no reply; other rpc. names stay unknown.
func TestDiscoverCalls(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	r := srv.post(`[{"jsonrpc":"2.0","id":1,"method":"rpc.discover","params":{}},{"jsonrpc":"2.0","id":2,"method":"rpc.discover","params":[]},` +
		`{"jsonrpc":"2.0","method":"rpc.discover"},{"jsonrpc":"2.0","id":3,"method":"rpc.other"}]`)
	var replies []struct {
		ID     int `json:"id"`
		Result *struct {
			OpenRPC string `json:"openrpc"`
		} `json:"result"`
		Error *struct {
			Code int64 `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &replies); err != nil || len(replies) != 3 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, rep := range replies[:2] {
		if rep.Result == nil || rep.Result.OpenRPC != rpc.OpenRPCVersion {
			t.Errorf("id %d: %s", rep.ID, r.body)
		}
	}
	if replies[2].ID != 3 || replies[2].Error == nil || replies[2].Error.Code != -32601 {
		t.Errorf("rpc.other: %s", r.body)
	}
}

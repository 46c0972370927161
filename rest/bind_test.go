package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/billgate/billgate/service"
)

const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

func TestPathBeatsQueryBeatsBody(t *testing.T) {
	srv := newServer(t, Options{})
	for _, ct := range []string{jsonType, formType} {
		t.Run(ct, func(t *testing.T) {
			b := `{"id":1,"name":"body","credit":5}`
			if ct == formType {
				b = "id=1&name=body&credit=5"
			}
			got := do(t, srv, "PATCH", "/things/3?id=2&name=query", body(b), "Content-Type", ct).thing(t)
			if got.ID != 3 {
				t.Errorf("id = %d, want the path's 3", got.ID)
			}
			if got.Name != "query" {
				t.Errorf("name = %q, want the query's", got.Name)
			}
			if got.Credit == nil || *got.Credit != 5 {
				t.Errorf("credit = %v, want the body's 5", got.Credit)
			}
		})
	}
}

func TestBodyEncodings(t *testing.T) {
	srv := newServer(t, Options{})
	tests := []struct {
		name, ct, body string
	}{
		{"json", jsonType, `{"credit":1000,"name":"x"}`},
		{"json with charset", "application/json; charset=utf-8", `{"credit":1000,"name":"x"}`},
		{"curl -d: json sent as form", formType, `{"credit":1000,"name":"x"}`},
		{"json, leading space, no type", "", " \n\t{\"credit\":1000,\"name\":\"x\"}"},
		{"json as text/plain", "text/plain", `{"credit":1000,"name":"x"}`},
		{"form", formType, "credit=1000&name=x"},
		{"form without type", "", "credit=1000&name=x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, srv, "POST", "/things", body(tc.body), "Content-Type", tc.ct).thing(t)
			if got.Credit == nil || *got.Credit != 1000 || got.Name != "x" {
				t.Errorf("got %+v, want credit 1000 and name x", got)
			}
		})
	}
}

func TestBodyOnAnyVerb(t *testing.T) {
	srv := newServer(t, Options{})
	r := do(t, srv, "GET", "/things", body(`{"limit":5}`))
	var rows []thing
	if err := json.Unmarshal(r.Body, &rows); err != nil || r.Status != 200 {
		t.Fatalf("status %d body %s", r.Status, r.Body)
	}
	if len(rows) != 5 {
		t.Errorf("a GET body's limit was ignored: %d rows", len(rows))
	}
}

func TestListParams(t *testing.T) {
	srv := newServer(t, Options{})
	got := do(t, srv, "PATCH", "/things/1?ids=1&ids=2,3&tags=a,b&tags=c&active=true", nil).thing(t)
	if !slices.Equal(got.IDs, []int64{1, 2, 3}) {
		t.Errorf("ids = %v", got.IDs)
	}
	if !slices.Equal(got.Tags, []string{"a", "b", "c"}) {
		t.Errorf("tags = %v", got.Tags)
	}
	if got.Active == nil || !*got.Active {
		t.Errorf("active = %v", got.Active)
	}
	// A form body takes lists the same way.
	got = do(t, srv, "PATCH", "/things/1", body("ids=4,5&ids=6&tags=x"), "Content-Type", formType).thing(t)
	if !slices.Equal(got.IDs, []int64{4, 5, 6}) || !slices.Equal(got.Tags, []string{"x"}) {
		t.Errorf("form lists: %+v", got)
	}
}

func TestEscapedPathParam(t *testing.T) {
	srv := newServer(t, Options{})
	r := do(t, srv, "GET", "/codes/a%2Fb%20c", nil)
	var c currency
	if err := json.Unmarshal(r.Body, &c); err != nil || r.Status != http.StatusOK {
		t.Fatalf("status %d body %s", r.Status, r.Body)
	}
	if c.Code != "a/b c" {
		t.Errorf("path param %q, want it unescaped", c.Code)
	}
}

func TestBindErrors(t *testing.T) {
	srv := newServer(t, Options{})
	tests := []struct {
		name, verb, path, ct, body string
		status                     int
		code                       service.Code
		field, msgHas              string
	}{
		{"query type", "GET", "/things?id=abc", "", "", 400, service.CodeInvalidParams, "id", "integer"},
		{"path type", "PATCH", "/things/abc", "", "", 400, service.CodeInvalidParams, "id", "integer"},
		{"body type", "PATCH", "/things/1", jsonType, `{"credit":"lots"}`, 400, service.CodeInvalidParams, "credit", "integer"},
		{"form type", "PATCH", "/things/1", formType, "active=maybe", 400, service.CodeInvalidParams, "active", "boolean"},
		{"unknown query", "PATCH", "/things/1?bogus=1", "", "", 400, service.CodeInvalidParams, "bogus", "unknown"},
		{"unknown body", "PATCH", "/things/1", jsonType, `{"colour":"red"}`, 400, service.CodeInvalidParams, "colour", "unknown"},
		{"malformed json", "PATCH", "/things/1", jsonType, `{"credit":`, 400, service.CodeParseError, "", "malformed JSON"},
		{"malformed json sniffed", "PATCH", "/things/1", formType, `{"credit":1,}`, 400, service.CodeParseError, "", "malformed JSON"},
		{"form body declared json", "PATCH", "/things/1", jsonType, "credit=1", 400, service.CodeParseError, "", "malformed JSON"},
		{"array body", "PATCH", "/things/1", jsonType, `[{"credit":1}]`, 400, service.CodeInvalidParams, "", "must be a JSON object"},
		{"array body sniffed", "PATCH", "/things/1", "", `[1,2]`, 400, service.CodeInvalidParams, "", "must be a JSON object"},
		{"string body", "PATCH", "/things/1", jsonType, `"x"`, 400, service.CodeInvalidParams, "", "must be a JSON object"},
		{"null body", "PATCH", "/things/1", jsonType, `null`, 400, service.CodeInvalidParams, "", "must be a JSON object"},
		{"malformed form", "PATCH", "/things/1", formType, "credit=%zz", 400, service.CodeParseError, "", "malformed form"},
		{"malformed query", "PATCH", "/things/1?credit=%zz", "", "", 400, service.CodeInvalidRequest, "", "query"},
		{"multipart", "PATCH", "/things/1", "multipart/form-data; boundary=x", "--x--", 400, service.CodeInvalidRequest, "", "multipart"},
		{"unknown zone", "GET", "/things?__tz=Mars/Olympus", "", "", 400, service.CodeInvalidParams, "__tz", "zone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b io.Reader
			if tc.body != "" {
				b = body(tc.body)
			}
			r := do(t, srv, tc.verb, tc.path, b, "Content-Type", tc.ct)
			e := r.apiError(t, tc.status, tc.code)
			if tc.field != "" && !strings.Contains(e.Data.Fields[tc.field], tc.msgHas) {
				t.Errorf("data.fields = %v, want %s naming %q", e.Data.Fields, tc.field, tc.msgHas)
			}
			if !strings.Contains(e.Message, tc.msgHas) {
				t.Errorf("message %q does not mention %q", e.Message, tc.msgHas)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	srv := newServer(t, Options{MaxBodyBytes: 64})
	big := `{"name":"` + strings.Repeat("x", 100) + `"}`
	r := do(t, srv, "POST", "/things", body(big), "Content-Type", jsonType)
	r.apiError(t, http.StatusRequestEntityTooLarge, service.CodeTooLarge)
	// Without a Content-Length (chunked), the limit holds while reading.
	r = do(t, srv, "POST", "/things", io.MultiReader(body(big)), "Content-Type", jsonType)
	r.apiError(t, http.StatusRequestEntityTooLarge, service.CodeTooLarge)
	// Exactly at the limit is fine.
	exact := `{"name":"` + strings.Repeat("y", 64-11) + `"}`
	if got := do(t, srv, "POST", "/things", body(exact), "Content-Type", jsonType).thing(t); len(got.Name) != 53 {
		t.Errorf("name %q", got.Name)
	}
}

// FuzzBind feeds random query strings, bodies and content types to buildArgs
// and the args on to the service: nothing panics, and every failure is a
// *service.Error with a known code.
func FuzzBind(f *testing.F) {
	svc := newService()
	m, _ := svc.Registry().Lookup("test.echo")
	f.Add("id=2&tags=a,b", []byte(`{"credit":1000}`), formType)
	f.Add("", []byte("credit=1000&name=x"), formType)
	f.Add("ids=1&ids=2,3", []byte(`[1]`), jsonType)
	f.Add("__tz=Europe/Paris", []byte(`{"meta":{"a":[1,{}]}}`), "")
	f.Fuzz(func(t *testing.T, query string, b []byte, ct string) {
		args, err := buildArgs(m, request{RawQuery: query, ContentType: ct, Body: b, PathNames: []string{"id"}, PathValues: []string{"7"}})
		if err != nil {
			if !slices.Contains(service.AllCodes, err.Code) {
				t.Fatalf("unknown code %q", err.Code)
			}
			return
		}
		if string(args["id"]) != "7" {
			t.Fatalf("the path's id lost: %s", args["id"])
		}
		sess := service.NewSession(service.ProtoREST, "fuzz", service.Credentials{})
		if _, err := svc.Invoke(t.Context(), sess, m.Name, args); err != nil {
			if se, ok := err.(*service.Error); !ok || !slices.Contains(service.AllCodes, se.Code) {
				t.Fatalf("invoke error %T %v", err, err)
			}
		}
	})
}

package rest

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestCreatedLocation(t *testing.T) {
	srv := newServer(t, Options{})
	tests := []struct {
		name, path, body, want string
	}{
		{"collection with item route", "/things", `{"name":"a"}`, "/things/42"},
		{"sub-path creating the same type", "/things/special", `{"name":"a"}`, "/things/43"},
		{"item route named :code", "/codes", `{"code":"USD","name":"dollar"}`, "/codes/USD"},
		{"no item route", "/orphans", `{}`, "/orphans/7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "POST", tc.path, body(tc.body), "Content-Type", jsonType)
			if r.Status != http.StatusCreated {
				t.Fatalf("status %d, want 201; body %s", r.Status, r.Body)
			}
			if got := r.Header.Get("Location"); got != tc.want {
				t.Errorf("Location %q, want %q", got, tc.want)
			}
		})
	}
	// Not a create: 200 and no Location.
	r := do(t, srv, "PATCH", "/things/9", nil)
	if r.Status != http.StatusOK || r.Header.Get("Location") != "" {
		t.Errorf("update: %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// links parses Link headers into rel → URL.
func links(h http.Header) map[string]string {
	out := map[string]string{}
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			u, rel, ok := strings.Cut(strings.TrimSpace(part), ">; rel=")
			if ok {
				out[strings.Trim(rel, `"`)] = strings.TrimPrefix(u, "<")
			}
		}
	}
	return out
}

func TestPagedLinks(t *testing.T) {
	srv := newServer(t, Options{})
	tests := []struct {
		name, query, next, prev string
		rows                    int
	}{
		{"first page", "?limit=10", "/things?limit=10&offset=10", "", 10},
		{"middle page keeps other params", "?limit=10&offset=20&q=x&order=-id",
			"/things?limit=10&offset=30&order=-id&q=x", "/things?limit=10&offset=10&order=-id&q=x", 10},
		{"page is replaced by offset", "?limit=20&page=2", "/things?limit=20&offset=40", "/things?limit=20&offset=0", 20},
		{"prev does not go below 0", "?limit=10&offset=5", "/things?limit=10&offset=15", "/things?limit=10&offset=0", 10},
		{"default limit", "", "/things?limit=20&offset=20", "", 20},
		{"everything on one page", "?limit=100", "", "", 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "GET", "/things"+tc.query, nil)
			var rows []thing
			if err := json.Unmarshal(r.Body, &rows); err != nil || r.Status != http.StatusOK {
				t.Fatalf("status %d body %s", r.Status, r.Body)
			}
			if len(rows) != tc.rows {
				t.Errorf("%d rows, want %d", len(rows), tc.rows)
			}
			l := links(r.Header)
			if l["next"] != tc.next || l["prev"] != tc.prev {
				t.Errorf("links %v, want next %q prev %q", l, tc.next, tc.prev)
			}
		})
	}
	// An empty page is [] (not null).
	r := do(t, srv, "GET", "/things?offset=500", nil)
	if strings.TrimSpace(string(r.Body)) != "[]" {
		t.Errorf("empty page %s", r.Body)
	}
}

func TestSessionHeaders(t *testing.T) {
	srv := newServer(t, Options{})
	r := do(t, srv, "GET", "/deprecated", nil)
	if r.Status != http.StatusOK || r.Header.Get("Deprecation") != "true" {
		t.Errorf("status %d, Deprecation %q", r.Status, r.Header.Get("Deprecation"))
	}
	if r := do(t, srv, "PATCH", "/things/1", nil); r.Header.Get("Deprecation") != "" {
		t.Error("Deprecation on a method that did not set it")
	}
}

func TestRequestID(t *testing.T) {
	srv := newServer(t, Options{})
	whoami := func(hdr ...string) (string, string) {
		r := do(t, srv, "GET", "/whoami", nil, hdr...)
		var got map[string]string
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatalf("%s: %v", r.Body, err)
		}
		if got["protocol"] != "rest" {
			t.Errorf("protocol %q", got["protocol"])
		}
		return r.Header.Get(HeaderRequestID), got["request_id"]
	}
	if resp, seen := whoami(HeaderRequestID, "client-id_1.2"); resp != "client-id_1.2" || seen != resp {
		t.Errorf("client id: response %q, method saw %q", resp, seen)
	}
	var generated []string
	for _, bad := range []string{"", "has space", "semi;colon", strings.Repeat("a", 129), "ünïcode"} {
		resp, seen := whoami(HeaderRequestID, bad)
		if resp == "" || resp == bad || seen != resp || !saneRequestID(resp) {
			t.Errorf("for %q: response %q, method saw %q", bad, resp, seen)
		}
		generated = append(generated, resp)
	}
	slices.Sort(generated)
	if len(slices.Compact(generated)) != 5 {
		t.Errorf("generated ids repeat: %v", generated)
	}
	if resp, _ := whoami(HeaderRequestID, strings.Repeat("b", 128)); resp != strings.Repeat("b", 128) {
		t.Error("a 128-character id is sane")
	}
	// Every response carries one, errors included.
	if r := do(t, srv, "GET", "/nope", nil, HeaderRequestID, "abc"); r.Header.Get(HeaderRequestID) != "abc" {
		t.Errorf("404 request id %q", r.Header.Get(HeaderRequestID))
	}
}

func TestRawResult(t *testing.T) {
	srv := newServer(t, Options{})
	r := do(t, srv, "GET", "/raw", nil)
	if r.Status != http.StatusOK || string(r.Body) != "%PDF-1.7\n%fake\n" {
		t.Fatalf("status %d body %q", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestFieldIndex(t *testing.T) {
	type inner struct {
		ID int64 `json:"id"`
	}
	type outer struct {
		inner
		Code  string `json:"code"`
		Other string `json:"-"`
		Plain string
	}
	for name, want := range map[string]bool{"id": true, "code": true, "Other": false, "plain": true, "nope": false} {
		if _, ok := fieldIndex(reflect.TypeOf(&outer{}), name); ok != want {
			t.Errorf("fieldIndex(%q) = %v, want %v", name, ok, want)
		}
	}
}

// TestEveryCreateHasALocation checks the declarations of the real service: each
// Created method's result has the field its Location is built from.
func TestEveryCreateHasALocation(t *testing.T) {
	methods := newService().Registry().Methods()
	n := 0
	for _, m := range methods {
		if !m.HTTP.Created {
			continue
		}
		if !strings.HasPrefix(m.Name, "test.") {
			n++
		}
		tmpl, idx := locationPlan(m, methods)
		if idx == nil {
			t.Errorf("%s: result %s has no field %q for Location %s", m.Name, m.ResultType, lastParam(tmpl), tmpl)
		}
	}
	if n < 3 { // iam.users.create, iam.api_keys.create, resellers.create at least
		t.Errorf("only %d of the service's created methods checked", n)
	}
}

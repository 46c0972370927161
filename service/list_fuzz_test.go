package service

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// listCase is one list method's params type with the ListSpec its handler
// passes to BuildQuery.
type listCase struct {
	name    string
	spec    ListSpec
	method  *Method
	build   func(p any) (Query, error)
	filters map[string]bool // the filter:"…" names of the params type
}

func newListCase[P any](name string, spec ListSpec, build func(p *P) (Query, error)) listCase {
	m := Register(NewRegistry(), Decl[P, struct{}]{Name: name, Do: func(context.Context, *P) (struct{}, error) { return struct{}{}, nil }})
	c := listCase{name: name, spec: spec, method: m, filters: map[string]bool{},
		build: func(p any) (Query, error) { return build(p.(*P)) }}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
			} else if tag := f.Tag.Get("filter"); tag != "" {
				c.filters[tag] = true
			}
		}
	}
	walk(reflect.TypeFor[P]())
	return c
}

// listCases are the search and count params of the registry, with their specs.
func listCases() []listCase {
	return []listCase{
		newListCase("clients.search", clientList, func(p *ClientSearch) (Query, error) {
			return BuildQuery(clientList, p.FilterParams, &p.ListParams, &p.ClientFilter)
		}),
		newListCase("clients.count", clientList, func(p *ClientCount) (Query, error) {
			return BuildQuery(clientList, p.FilterParams, nil, &p.ClientFilter)
		}),
		newListCase("accounting.transactions.search", transactionList, func(p *TransactionSearch) (Query, error) {
			return BuildQuery(transactionList, p.FilterParams, &p.ListParams, &p.TransactionFilter)
		}),
		newListCase("iam.users.search", userList, func(p *UserSearch) (Query, error) {
			return BuildQuery(userList, p.FilterParams, &p.ListParams, &p.UserFilter)
		}),
		newListCase("accounting.currencies.search", currencyList, func(p *CurrencySearch) (Query, error) {
			return BuildQuery(currencyList, p.FilterParams, &p.ListParams, p)
		}),
		newListCase("audit.search", auditList, func(p *AuditSearch) (Query, error) {
			return BuildQuery(auditList, p.FilterParams, &p.ListParams, p)
		}),
	}
}

// FuzzBuildQuery binds random list params, as a JSON-RPC params object and as
// a REST query string, and builds the query: it must never panic, and a query
// it accepts may only name whitelisted fields, once each, with the paging in
// bounds and at most MaxFilterValues values per filter.
func FuzzBuildQuery(f *testing.F) {
	f.Add(uint8(0), `{"q":"acme*","q_f":"name,email","order":"-balance,name","limit":50,"page":2}`, "q=a%25_b&o=-id&status=active,suspended")
	f.Add(uint8(1), `{"order":["id","id","-id"],"offset":10,"id":[1,2,3]}`, "order=created_at&order=-amount&limit=1000")
	f.Add(uint8(2), `{"start_at":"2025-01-01","ends_at":"2025-02-01T00:00:00+03:00","q_f":["login","login"]}`, "page=1000000&limit=1000")
	f.Add(uint8(3), `{"order":"password_hash","q_f":"secret","limit":0}`, "order=name;DROP TABLE users&q_f=key")
	f.Add(uint8(4), `{"is_base":true,"code":"usd,eur","q":"\\%_*"}`, "offset=-1&page=0")
	f.Add(uint8(5), `{"entity":"client","users_id":"1,2","__tz":"Asia/Tokyo"}`, "id=1,2,x")
	cases := listCases()
	f.Fuzz(func(t *testing.T, which uint8, params, query string) {
		c := cases[int(which)%len(cases)]
		var args Args
		if json.Unmarshal([]byte(params), &args) == nil {
			check(t, c, args)
		}
		if vals, err := url.ParseQuery(query); err == nil {
			if args, err := StringArgs(c.method, vals); err == nil {
				check(t, c, args)
			}
		}
	})
}

// check binds args for c as the service would and checks the query built.
func check(t *testing.T, c listCase, args Args) {
	t.Helper()
	if _, err := splitMeta(args); err != nil {
		return
	}
	p, err := bind(c.method, args, time.UTC)
	if err != nil {
		return
	}
	q, err := c.build(p)
	if err != nil {
		if CodeOf(err) != CodeInvalidParams {
			t.Fatalf("%s: error %v is not invalid_params", c.name, err)
		}
		return
	}
	_, paged := reflect.TypeOf(p).Elem().FieldByName("ListParams")
	if paged && (q.Limit < 1 || q.Limit > MaxLimit || q.Offset < 0) {
		t.Fatalf("%s: limit %d offset %d accepted", c.name, q.Limit, q.Offset)
	}
	if !paged && (q.Limit != 0 || q.Offset != 0 || len(q.Order) != 0) {
		t.Fatalf("%s: a count got paging %+v", c.name, q)
	}
	seen := map[string]bool{}
	for _, o := range q.Order {
		if !slices.Contains(c.spec.Sort, o.Field) && o.Field != "id" {
			t.Fatalf("%s: sorts by %q, not whitelisted", c.name, o.Field)
		}
		if seen[o.Field] {
			t.Fatalf("%s: sorts by %q twice: %+v", c.name, o.Field, q.Order)
		}
		seen[o.Field] = true
	}
	if paged && !seen["id"] {
		t.Fatalf("%s: order %+v does not end on a unique key", c.name, q.Order)
	}
	if q.Q != "" {
		if len(q.QFields) == 0 || len(q.QFields) > len(c.spec.Search) {
			t.Fatalf("%s: q searches %v", c.name, q.QFields)
		}
		for _, f := range q.QFields {
			if !slices.Contains(c.spec.Search, f) {
				t.Fatalf("%s: q searches %q, not whitelisted", c.name, f)
			}
		}
		checkLike(t, q.Q)
	}
	for _, f := range q.Filters {
		if !c.filters[f.Field] {
			t.Fatalf("%s: filter on %q, not a filter of the params", c.name, f.Field)
		}
		if len(f.Values) == 0 || len(f.Values) > MaxFilterValues {
			t.Fatalf("%s: filter %s with %d values", c.name, f.Field, len(f.Values))
		}
	}
}

// checkLike checks a LIKE pattern: lower case, and every \ escapes \, % or _.
func checkLike(t *testing.T, p string) {
	t.Helper()
	if p != strings.ToLower(p) {
		t.Fatalf("pattern %q is not lower case", p)
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '\\' {
			continue
		}
		if i+1 >= len(p) || !strings.ContainsRune(`\%_`, rune(p[i+1])) {
			t.Fatalf("pattern %q: dangling escape at %d", p, i)
		}
		i++
	}
}

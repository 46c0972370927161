package service

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type bindProbe struct {
	ID     int64          `json:"id" required:"true"`
	Name   *string        `json:"name"`
	Tags   []string       `json:"tags"`
	IDs    IDs            `json:"ids"`
	Active bool           `json:"active"`
	At     *Time          `json:"at"`
	Meta   map[string]any `json:"meta"`
}

func probeMethod() *Method {
	r := NewRegistry()
	return Register(r, Decl[bindProbe, *bindProbe]{Name: "probe", Do: func(_ context.Context, p *bindProbe) (*bindProbe, error) { return p, nil }})
}

func rawArgs(t *testing.T, js string) Args {
	t.Helper()
	var a Args
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestBindNamesEveryBadField(t *testing.T) {
	m := probeMethod()
	_, err := bind(m, rawArgs(t, `{"id":"x","tags":5,"bogus":1,"at":"yesterday"}`), time.UTC)
	e := AsError(err)
	if e.Code != CodeInvalidParams {
		t.Fatalf("code %s", e.Code)
	}
	for _, f := range []string{"id", "tags", "bogus", "at"} {
		if e.Fields[f] == "" {
			t.Errorf("field %s not named: %v", f, e.Fields)
		}
	}
	if !strings.Contains(e.Fields["id"], "integer") || e.Fields["bogus"] != "unknown parameter" {
		t.Errorf("messages: %v", e.Fields)
	}
}

func TestBindRequiredAndNull(t *testing.T) {
	m := probeMethod()
	for _, js := range []string{`{}`, `{"id":null}`} {
		_, err := bind(m, rawArgs(t, js), time.UTC)
		if e := AsError(err); e.Code != CodeInvalidParams || e.Fields["id"] != "is required" {
			t.Errorf("%s: %v", js, err)
		}
	}
	p, err := bind(m, rawArgs(t, `{"id":7,"name":null}`), time.UTC)
	if err != nil || p.(*bindProbe).Name != nil || p.(*bindProbe).ID != 7 {
		t.Fatalf("%v %+v", err, p)
	}
}

func TestBindReadsZonelessTimesInTheCallZone(t *testing.T) {
	m := probeMethod()
	ny, _ := time.LoadLocation("America/New_York")
	p, err := bind(m, rawArgs(t, `{"id":1,"at":"2025-01-31 10:00:00"}`), ny)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*bindProbe).At.UTC(); !got.Equal(time.Date(2025, 1, 31, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("zone-less time read as %s", got)
	}
	p, _ = bind(m, rawArgs(t, `{"id":1,"at":"2025-01-31T10:00:00+01:00"}`), ny)
	if got := p.(*bindProbe).At.UTC(); !got.Equal(time.Date(2025, 1, 31, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("offset time read as %s", got)
	}
}

func TestStringArgsCoercesByType(t *testing.T) {
	m := probeMethod()
	a, err := StringArgs(m, map[string][]string{"id": {"42"}, "tags": {"a,b", "c"}, "ids": {"1,2"}, "active": {"true"}, "name": {"x"}, "meta": {`{"k":1}`}, "zzz": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": `42`, "tags": `["a","b","c"]`, "ids": `[1,2]`, "active": `true`, "name": `"x"`, "meta": `{"k":1}`, "zzz": `"1"`}
	for k, v := range want {
		if string(a[k]) != v {
			t.Errorf("%s = %s, want %s", k, a[k], v)
		}
	}
	_, err = StringArgs(m, map[string][]string{"id": {"abc"}, "active": {"maybe"}, "ids": {"1,x"}})
	e := AsError(err)
	if e.Code != CodeInvalidParams || e.Fields["id"] == "" || e.Fields["active"] == "" || e.Fields["ids"] == "" {
		t.Errorf("coercion errors: %v", err)
	}
}

func TestSplitMeta(t *testing.T) {
	a := rawArgs(t, `{"id":1,"__tz":"Europe/Paris","__idempotency_key":"k1"}`)
	m, err := splitMeta(a)
	if err != nil || m.TZ != "Europe/Paris" || m.IdempotencyKey != "k1" || len(a) != 1 {
		t.Fatalf("%+v %v %v", m, err, a)
	}
	if _, err := splitMeta(rawArgs(t, `{"__nope":"x"}`)); CodeOf(err) != CodeInvalidParams {
		t.Errorf("unknown meta accepted: %v", err)
	}
	if _, err := splitMeta(rawArgs(t, `{"__tz":5}`)); CodeOf(err) != CodeInvalidParams {
		t.Errorf("non-string __tz accepted: %v", err)
	}
}

func TestLocalizeRendersResultTimesInZone(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	res := &Page[*User]{Items: []*User{{CreatedAt: at, UpdatedAt: at}}}
	Localize(res, tokyo)
	b, _ := json.Marshal(res)
	if !strings.Contains(string(b), `"created_at":"2025-01-01T09:00:00+09:00"`) {
		t.Errorf("not localized: %s", b)
	}
}

func TestRegistryRefusesDuplicates(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	r := NewRegistry()
	do := func(context.Context, *NoParams) (*Count, error) { return &Count{}, nil }
	Register(r, Decl[NoParams, *Count]{Name: "a.b", HTTP: Route{Verb: "GET", Path: "/a/:id"}, Do: do})
	mustPanic("same name", func() { Register(r, Decl[NoParams, *Count]{Name: "a.b", Do: do}) })
	mustPanic("same route", func() {
		Register(r, Decl[NoParams, *Count]{Name: "a.c", HTTP: Route{Verb: "GET", Path: "/a/:code"}, Do: do})
	})
	mustPanic("reserved", func() { Register(r, Decl[NoParams, *Count]{Name: "rpc.discover", Do: do}) })
}

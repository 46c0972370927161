package schema_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/schema"
)

// ids takes one id or a list of them, like a list filter.
type ids []int64

func (v *ids) UnmarshalJSON(b []byte) error {
	var one int64
	if json.Unmarshal(b, &one) == nil {
		*v = ids{one}
		return nil
	}
	var many []int64
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*v = many
	return nil
}

func (ids) TypeDescription() string { return "an id or a list of ids" }

// strictList decodes itself but wants a list.
type strictList []string

func (v *strictList) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '[' {
		return errors.New("want a list")
	}
	var s []string
	err := json.Unmarshal(b, &s)
	*v = s
	return err
}

// stamp is a datetime parameter wrapping time.Time.
type stamp struct {
	time.Time
	naive bool
}

func (s stamp) MarshalJSON() ([]byte, error) { return json.Marshal(s.Time) }

func (s *stamp) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &s.Time) }

// decimal encodes itself as a string.
type decimal struct{ n int64 }

func (d decimal) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(d.n, 10) + `"`), nil
}

func (decimal) TypeDescription() string { return "a decimal string" }

// level is a text marshaler: encoding/json writes it as a string.
type level int

func (l level) MarshalText() ([]byte, error) { return []byte(strconv.Itoa(int(l))), nil }

// boom panics when encoded: described by its structure instead.
type boom struct {
	X int `json:"x"`
}

func (boom) MarshalJSON() ([]byte, error) { panic("boom") }

type page[T any] struct{ items []T }

func (p *page[T]) MarshalJSON() ([]byte, error) { return json.Marshal(p.items) }

func (p *page[T]) ItemType() reflect.Type { return reflect.TypeFor[T]() }

type listParams struct {
	Limit *int     `json:"limit" doc:"rows to return"`
	Order []string `json:"order"`
}

type search struct {
	listParams
	ID     ids            `json:"id"`
	Status strictList     `json:"status" enum:"active,archived"`
	Code   string         `json:"code" required:"true" enum:"a,b" doc:"the code"`
	Kind   *int           `json:"kind" enum:"1,2"`
	At     *stamp         `json:"at"`
	Rate   decimal        `json:"rate"`
	Meta   map[string]any `json:"meta"`
	Hidden string         `json:"-"`
	secret string
}

type account struct {
	ID       int64          `json:"id"`
	Name     string         `json:"name" doc:"what people call it"`
	Status   string         `json:"status" enum:"active,archived"`
	Parent   *int64         `json:"parent_id"`
	Tags     []string       `json:"tags"`
	Meta     map[string]any `json:"metadata"`
	Rate     decimal        `json:"rate"`
	Level    level          `json:"level"`
	Key      string         `json:"key,omitempty"`
	Boom     boom           `json:"boom"`
	Owner    *owner         `json:"owner"`
	Created  time.Time      `json:"created_at"`
	Password string         `json:"-"`
}

type owner struct {
	Login string `json:"login"`
}

// newInput is a struct named by the caller.
type newInput struct {
	Name string `json:"name" required:"true"`
	Note string `json:"note"`
}

func render(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFields(t *testing.T) {
	g := schema.New("#/components/schemas/")
	fields := g.Fields(reflect.TypeFor[*search]())
	var names []string
	by := map[string]schema.Field{}
	for _, f := range fields {
		names = append(names, f.Name)
		by[f.Name] = f
	}
	if got, want := strings.Join(names, ","), "id,status,code,kind,at,rate,meta,limit,order"; got != want {
		t.Fatalf("fields %s, want %s (embedded after own fields, hidden and unexported left out)", got, want)
	}
	cases := []struct {
		name, schema string
		required     bool
		nullable     bool
		item         string
		desc         string
	}{
		{"id", `{"anyOf":[{"type":"integer"},{"items":{"type":"integer"},"type":"array"}],"description":"an id or a list of ids"}`, false, true, `{"type":"integer"}`, "an id or a list of ids"},
		{"status", `{"items":{"type":"string","enum":["active","archived"]},"type":"array"}`, false, true, "", ""},
		{"code", `{"type":"string","enum":["a","b"]}`, true, false, "", "the code"},
		{"kind", `{"type":"integer","enum":[1,2]}`, false, true, "", ""},
		{"at", `{"type":"string","format":"date-time"}`, false, true, "", ""},
		{"rate", `{"type":"string","description":"a decimal string"}`, false, false, "", "a decimal string"},
		{"meta", `{"type":"object"}`, false, true, "", ""},
		{"limit", `{"type":"integer"}`, false, true, "", "rows to return"},
		{"order", `{"items":{"type":"string"},"type":"array"}`, false, true, "", ""},
	}
	for _, c := range cases {
		f := by[c.name]
		if got := render(t, f.Schema); got != c.schema {
			t.Errorf("%s: schema %s, want %s", c.name, got, c.schema)
		}
		if f.Required != c.required || f.Nullable != c.nullable || f.Description != c.desc {
			t.Errorf("%s: required %v nullable %v description %q, want %v %v %q", c.name, f.Required, f.Nullable, f.Description, c.required, c.nullable, c.desc)
		}
		got := ""
		if f.Item != nil {
			got = render(t, f.Item)
		}
		if got != c.item {
			t.Errorf("%s: item %s, want %q", c.name, got, c.item)
		}
	}
	obj := render(t, schema.Object(fields))
	for _, want := range []string{
		`"required":["code"]`,
		`"kind":{"anyOf":[{"type":"integer","enum":[1,2]},{"type":"null"}]}`,
		`"code":{"type":"string","enum":["a","b"],"description":"the code"}`,
	} {
		if !strings.Contains(obj, want) {
			t.Errorf("object %s lacks %s", obj, want)
		}
	}
	if len(g.Fields(reflect.TypeFor[int]())) != 0 {
		t.Error("a non-struct has fields")
	}
}

func TestOutputDefinitions(t *testing.T) {
	g := schema.New("#/components/schemas/")
	if got := render(t, g.Schema(reflect.TypeFor[*account]())); got != `{"$ref":"#/components/schemas/account"}` {
		t.Fatalf("root %s", got)
	}
	defs := g.Definitions()
	acc := render(t, defs["account"])
	for _, want := range []string{
		`"id":{"type":"integer"}`,
		`"name":{"type":"string","description":"what people call it"}`,
		`"status":{"type":"string","enum":["active","archived"]}`,
		`"parent_id":{"anyOf":[{"type":"integer"},{"type":"null"}]}`,
		`"tags":{"anyOf":[{"items":{"type":"string"},"type":"array"},{"type":"null"}]}`,
		`"metadata":{"anyOf":[{"type":"object"},{"type":"null"}]}`,
		`"rate":{"type":"string","description":"a decimal string"}`,
		`"level":{"type":"string"}`,
		`"boom":{"$ref":"#/components/schemas/boom"}`,
		`"owner":{"anyOf":[{"$ref":"#/components/schemas/owner"},{"type":"null"}]}`,
		`"created_at":{"type":"string","format":"date-time"}`,
		// outputs: every field encoding/json always writes is required
		`"required":["id","name","status","parent_id","tags","metadata","rate","level","boom","owner","created_at"]`,
	} {
		if !strings.Contains(acc, want) {
			t.Errorf("account %s\nlacks %s", acc, want)
		}
	}
	if strings.Contains(acc, "Password") || !strings.Contains(acc, `"key":{"type":"string"}`) {
		t.Errorf("account %s: a hidden field is shown, or an omitempty one missing", acc)
	}
	if got := render(t, defs["owner"]); got != `{"properties":{"login":{"type":"string"}},"type":"object","required":["login"]}` {
		t.Errorf("owner %s", got)
	}
	if got := render(t, defs["boom"]); !strings.Contains(got, `"x":{"type":"integer"}`) {
		t.Errorf("a type whose encoding panics is described by its structure: %s", got)
	}
}

type order struct {
	Lines []line `json:"lines" required:"true"`
}

type line struct {
	Qty    *int64 `json:"qty"`
	Amount int64  `json:"amount" required:"true"`
	Note   string `json:"note,omitempty"`
}

// A struct reached from params is an input; from a result, an output; used
// both ways, it has a definition for each.
func TestInputsAndOutputs(t *testing.T) {
	g := schema.New("#/d/")
	fields := g.Fields(reflect.TypeFor[order]())
	if len(fields) != 1 || !fields[0].Required || render(t, fields[0].Schema) != `{"items":{"$ref":"#/d/line"},"type":"array"}` {
		t.Fatalf("lines: %+v %s", fields, render(t, fields[0].Schema))
	}
	if got := render(t, g.Schema(reflect.TypeFor[[]line]())); got != `{"items":{"$ref":"#/d/lineOutput"},"type":"array"}` {
		t.Errorf("as a result: %s", got)
	}
	defs := g.Definitions()
	if got := render(t, defs["line"]); got != `{"properties":{"qty":{"anyOf":[{"type":"integer"},{"type":"null"}]},"amount":{"type":"integer"},"note":{"type":"string"}},"type":"object","required":["amount"]}` {
		t.Errorf("input: %s", got)
	}
	if got := render(t, defs["lineOutput"]); got != `{"properties":{"qty":{"anyOf":[{"type":"integer"},{"type":"null"}]},"amount":{"type":"integer"},"note":{"type":"string"}},"type":"object","required":["qty","amount"]}` {
		t.Errorf("output: %s", got)
	}
}

func TestLists(t *testing.T) {
	g := schema.New("#/x/")
	got := render(t, g.Schema(reflect.TypeFor[*page[*owner]]()))
	if got != `{"items":{"$ref":"#/x/owner"},"type":"array"}` {
		t.Errorf("page: %s", got)
	}
	if _, ok := g.Definitions()["owner"]; !ok {
		t.Error("the item type is not defined")
	}
	for p := range g.Definitions() {
		if strings.ContainsAny(p, "[]*/. ") {
			t.Errorf("definition name %q is not a plain name", p)
		}
	}
}

// Two types of one name get different definition names.
func TestNameCollision(t *testing.T) {
	type owner struct {
		Other bool `json:"other"`
	}
	type both struct {
		A owner   `json:"a"`
		B *owner2 `json:"b"`
	}
	g := schema.New("#/d/")
	g.Schema(reflect.TypeFor[both]())
	g.Schema(reflect.TypeFor[*page[owner]]())
	defs := g.Definitions()
	if got := strings.Join(sortedKeys(defs), ","); got != "Schematestowner,both,owner" {
		t.Fatalf("definitions %s", got)
	}
	a, _ := defs["both"].Properties.Get("a")
	b, _ := defs["both"].Properties.Get("b")
	if a.Ref != "#/d/owner" || !strings.Contains(render(t, defs["owner"]), `"other"`) {
		t.Errorf("a: %s, owner %s", render(t, a), render(t, defs["owner"]))
	}
	if !strings.Contains(render(t, b), `"$ref":"#/d/Schematestowner"`) || !strings.Contains(render(t, defs["Schematestowner"]), `"login"`) {
		t.Errorf("b: %s, Schematestowner %s", render(t, b), render(t, defs["Schematestowner"]))
	}
	g.Name(reflect.TypeFor[newInput](), "NewThing")
	g.Schema(reflect.TypeFor[newInput]())
	if g.Definitions()["NewThing"] == nil {
		t.Error("Name did not name the definition")
	}
	defer func() {
		if recover() == nil {
			t.Error("Name did not refuse a taken name")
		}
	}()
	g.Name(reflect.TypeFor[account](), "NewThing")
}

type owner2 = owner

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestWithNull(t *testing.T) {
	s := &schema.Schema{Type: "string", Description: "d"}
	if got := render(t, schema.WithNull(s)); got != `{"anyOf":[{"type":"string"},{"type":"null"}],"description":"d"}` {
		t.Errorf("WithNull: %s", got)
	}
	if s.Description != "d" {
		t.Error("WithNull changed its argument")
	}
}

func TestWithNullFlattens(t *testing.T) {
	g := schema.New("#/")
	s := g.Schema(reflect.TypeFor[ids]())
	if got := render(t, schema.WithNull(s)); got != `{"anyOf":[{"type":"integer"},{"items":{"type":"integer"},"type":"array"},{"type":"null"}],"description":"an id or a list of ids"}` {
		t.Errorf("WithNull of one-or-many: %s", got)
	}
}

// Package schema turns Go types into JSON Schemas for API documents (OpenAPI
// 3.1, OpenRPC). github.com/invopop/jsonschema does the reflection; this
// package adds the conventions of the types it is given, and knows nothing of
// what they describe.
//
// Struct tags:
//
//	json:"name,omitempty"   the property name (encoding/json's rules; "-" hides a field)
//	doc:"…"                 the property's description
//	enum:"a,b"              the values allowed (on a list: for each element)
//	required:"true"         an input field that must be given
//
// Types reached from params (Fields) are inputs: a property is required when
// tagged so, and pointers, maps and slices also accept null ("not given").
// Types reached from results (Schema) are outputs: every property
// encoding/json always writes (no omitempty or omitzero) is required, and
// pointers, maps and slices that it writes as null accept null. A struct used
// both ways gets a definition for each (the second one named with an Input or
// Output suffix).
//
// Types that encode themselves are described by asking them, never by name:
//
//   - ItemType() reflect.Type (on the value or its pointer): a list, written as
//     a JSON array of that type;
//   - a slice type whose UnmarshalJSON also accepts a single element: "one
//     value or a list of them" (Field.Item is then the element's schema);
//   - a json.Marshaler or encoding.TextMarshaler: the JSON kind its zero value
//     encodes to (a string, with format date-time when it encodes exactly like
//     a time.Time);
//   - TypeDescription() string: the description of the type.
//
// Named struct types become definitions, referred to as refPrefix + name.
package schema

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

// Schema is a JSON Schema (draft 2020-12; the keywords used are also draft-07's).
type Schema = jsonschema.Schema

// Generator builds schemas and collects the definitions they refer to. It is
// meant to run once at start-up and is not safe for concurrent use.
type Generator struct {
	ref    string
	r      [2]*jsonschema.Reflector // by mode
	defs   map[string]*Schema
	names  map[typeMode]string
	byName map[string]typeMode
}

// mode says which way a type is described.
type mode int

const (
	output mode = iota
	input
)

type typeMode struct {
	t reflect.Type
	m mode
}

// New returns a Generator whose references to named schemas start with
// refPrefix ("#/components/schemas/" in OpenAPI and OpenRPC documents).
func New(refPrefix string) *Generator {
	g := &Generator{
		ref:    refPrefix,
		defs:   map[string]*Schema{},
		names:  map[typeMode]string{},
		byName: map[string]typeMode{},
	}
	for _, m := range []mode{output, input} {
		g.r[m] = &jsonschema.Reflector{
			Anonymous: true,
			// Outputs may gain fields; inputs list theirs (unknown ones are
			// the server's to refuse).
			AllowAdditionalProperties: true,
			Namer:                     func(t reflect.Type) string { return g.name(t, m) },
			Mapper:                    func(t reflect.Type) *Schema { return g.mapType(t, m) },
			LookupComment:             lookupComment,
		}
	}
	return g
}

// Name makes name the definition name of t as an output (instead of its Go
// name). Call it before t is first described; it panics when the name is taken.
func (g *Generator) Name(t reflect.Type, name string) {
	k := typeMode{t, output}
	if other, taken := g.byName[name]; taken && other != k {
		panic("schema: definition name " + name + " is taken by " + other.t.String())
	}
	if old, ok := g.names[k]; ok {
		delete(g.byName, old)
	}
	g.names[k], g.byName[name] = name, k
}

// Field is one parameter of a params struct.
type Field struct {
	Name string
	Type reflect.Type
	// Required is set by the tag required:"true".
	Required bool
	// Doc is the doc tag; Description is Doc, else the type's TypeDescription.
	Doc         string
	Description string
	// Schema is the field's schema, without null (see Nullable).
	Schema *Schema
	// Nullable is set when the field also accepts null.
	Nullable bool
	// Item is the element schema of a field that takes one value or a list
	// (Schema is then "Item or a list of Item"); nil otherwise.
	Item *Schema
}

// Schema returns the schema of values of t as an output (a result): a
// reference for named structs, a fresh schema the caller may change otherwise.
func (g *Generator) Schema(t reflect.Type) *Schema { return g.schema(t, output) }

func (g *Generator) schema(t reflect.Type, m mode) *Schema {
	root := g.r[m].ReflectFromType(t)
	defs := root.Definitions
	root.Definitions, root.Version, root.ID = nil, "", ""
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, done := g.defs[name]; done {
			continue
		}
		def := defs[name]
		g.rewriteRefs(def)
		if k, ok := g.byName[name]; ok && k.t.Kind() == reflect.Struct {
			g.shapeStruct(k.t, def, k.m)
		}
		g.defs[name] = def
	}
	g.rewriteRefs(root)
	return root
}

// Fields returns the parameters of the params struct type t (or pointer to
// it), embedded structs flattened, in declaration order; a parameter is
// required when tagged so. It returns nil for other kinds.
func (g *Generator) Fields(t reflect.Type) []Field {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []Field
	for _, sf := range jsonFields(t) {
		f := Field{Name: sf.name, Type: sf.f.Type, Doc: sf.f.Tag.Get("doc"), Description: describe(sf.f), Required: requiredTag(sf.f)}
		f.Schema = g.schema(sf.f.Type, input)
		f.Nullable = nullable(sf.f.Type)
		if elem, ok := oneOrMany(deref(sf.f.Type)); ok {
			f.Item = g.schema(elem, input)
		}
		if vals := enumTag(sf.f); vals != nil {
			applyEnum(f.Schema, vals)
			if f.Item != nil {
				applyEnum(f.Item, vals)
			}
		}
		out = append(out, f)
	}
	return out
}

// Definitions returns the named schemas referred to so far, by name.
func (g *Generator) Definitions() map[string]*Schema {
	out := make(map[string]*Schema, len(g.defs))
	for k, v := range g.defs {
		out[k] = v
	}
	return out
}

// WithNull returns s allowing null as well: anyOf [s, null] (s's branches
// and null when s is itself only an anyOf), with s's description moved onto
// the whole.
func WithNull(s *Schema) *Schema {
	if s == nil {
		return nil
	}
	inner := *s
	desc := inner.Description
	inner.Description = ""
	out := &Schema{Description: desc}
	if onlyAnyOf(&inner) {
		out.AnyOf = append(append(out.AnyOf, inner.AnyOf...), &Schema{Type: "null"})
		return out
	}
	out.AnyOf = []*Schema{&inner, {Type: "null"}}
	return out
}

// onlyAnyOf reports whether s has no keyword but anyOf.
func onlyAnyOf(s *Schema) bool {
	if len(s.AnyOf) == 0 {
		return false
	}
	cp := *s
	cp.AnyOf = nil
	return reflect.DeepEqual(cp, Schema{})
}

// Object returns an object schema with the fields as properties (null allowed
// where a field allows it) and the required ones listed.
func Object(fields []Field) *Schema {
	s := &Schema{Type: "object", Properties: jsonschema.NewProperties()}
	for _, f := range fields {
		p := f.Schema
		if f.Nullable {
			p = WithNull(p)
		}
		if f.Description != "" {
			cp := *p
			cp.Description = f.Description
			p = &cp
		}
		s.Properties.Set(f.Name, p)
		if f.Required {
			s.Required = append(s.Required, f.Name)
		}
	}
	return s
}

// shapeStruct applies the tag conventions to the definition s of struct type t.
func (g *Generator) shapeStruct(t reflect.Type, s *Schema, m mode) {
	if s.Properties == nil {
		return
	}
	in := m == input
	if in {
		s.Required = nil
	}
	for _, sf := range jsonFields(t) {
		p, ok := s.Properties.Get(sf.name)
		if !ok {
			continue
		}
		if vals := enumTag(sf.f); vals != nil {
			applyEnum(p, vals)
		}
		if d := describe(sf.f); d != "" {
			p.Description = d
		}
		// An output leaves out an omitempty nil rather than writing null.
		if nullable(sf.f.Type) && (in || !sf.omitempty) {
			s.Properties.Set(sf.name, WithNull(p))
		}
		if in && requiredTag(sf.f) {
			s.Required = append(s.Required, sf.name)
		}
	}
}

// rewriteRefs points the library's local references (#/$defs/X) at the
// document's definitions (refPrefix + X).
func (g *Generator) rewriteRefs(s *Schema) {
	walk(s, func(s *Schema) {
		if rest, ok := strings.CutPrefix(s.Ref, "#/$defs/"); ok {
			s.Ref = g.ref + rest
		}
	})
}

// walk calls fn on s and every schema inside it.
func walk(s *Schema, fn func(*Schema)) {
	if s == nil {
		return
	}
	fn(s)
	for _, list := range [][]*Schema{s.AllOf, s.AnyOf, s.OneOf, s.PrefixItems} {
		for _, c := range list {
			walk(c, fn)
		}
	}
	for _, c := range []*Schema{s.Not, s.If, s.Then, s.Else, s.Items, s.Contains, s.AdditionalProperties, s.PropertyNames, s.ContentSchema} {
		walk(c, fn)
	}
	for _, m := range []map[string]*Schema{s.PatternProperties, s.DependentSchemas, s.Definitions} {
		for _, c := range m {
			walk(c, fn)
		}
	}
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			walk(p.Value, fn)
		}
	}
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	unmarshalerType   = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	itemTyperType     = reflect.TypeFor[interface{ ItemType() reflect.Type }]()
	describerType     = reflect.TypeFor[interface{ TypeDescription() string }]()
	timeZeroJSON      = mustMarshal(time.Time{})
)

// mapType describes the types that encode themselves (see the package
// documentation); nil leaves t to the library's reflection.
func (g *Generator) mapType(t reflect.Type, m mode) *Schema {
	if t == timeType {
		return nil
	}
	if it := itemType(t); it != nil {
		return &Schema{Type: "array", Items: g.schema(it, m), Description: typeDescription(t)}
	}
	if elem, ok := oneOrMany(t); ok {
		return &Schema{
			AnyOf:       []*Schema{g.schema(elem, m), {Type: "array", Items: g.schema(elem, m)}},
			Description: typeDescription(t),
		}
	}
	if !implements(t, marshalerType) && !implements(t, textMarshalerType) {
		// Named lists and maps are described in place, like unnamed ones:
		// only structs become definitions.
		var s *Schema
		switch {
		case t.Name() == "":
		case t.Kind() == reflect.Slice:
			s = g.schema(reflect.SliceOf(t.Elem()), m)
		case t.Kind() == reflect.Map:
			s = g.schema(reflect.MapOf(t.Key(), t.Elem()), m)
		}
		if s != nil && s.Description == "" {
			s.Description = typeDescription(t)
		}
		return s
	}
	s := wireSchema(t)
	if s != nil {
		s.Description = typeDescription(t)
	}
	return s
}

// implements reports whether t or *t implements iface.
func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

// itemType returns the ItemType() of a list type, or nil.
func itemType(t reflect.Type) reflect.Type {
	if !implements(t, itemTyperType) {
		return nil
	}
	return reflect.New(t).Interface().(interface{ ItemType() reflect.Type }).ItemType()
}

// oneOrMany reports whether t is a slice type whose UnmarshalJSON accepts a
// single element as well as a list, and returns the element type.
func oneOrMany(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() != reflect.Slice || t.Elem().Kind() == reflect.Uint8 || !reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil, false
	}
	one, err := safeMarshal(reflect.New(t.Elem()).Interface())
	if err != nil {
		return nil, false
	}
	ok := func() (ok bool) {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		return reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(one) == nil
	}()
	return t.Elem(), ok
}

// wireSchema describes a self-encoding type by the JSON its zero value
// encodes to; nil when that says nothing (null, or a failure).
func wireSchema(t reflect.Type) *Schema {
	b, err := safeMarshal(reflect.New(t).Interface())
	if err != nil || len(b) == 0 {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		s := &Schema{Type: "string"}
		if string(b) == string(timeZeroJSON) {
			s.Format = "date-time"
		}
		return s
	case c == '{':
		return &Schema{Type: "object"}
	case c == '[':
		return &Schema{Type: "array"}
	case c == 't' || c == 'f':
		return &Schema{Type: "boolean"}
	case c == '-' || (c >= '0' && c <= '9'):
		return &Schema{Type: "number"}
	}
	return nil
}

// safeMarshal is json.Marshal that turns a panic into an error.
func safeMarshal(v any) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("schema: marshal %T panicked: %v", v, p)
		}
	}()
	return json.Marshal(v)
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// typeDescription returns t's TypeDescription(), or "".
func typeDescription(t reflect.Type) string {
	if t == nil || !implements(t, describerType) {
		return ""
	}
	return reflect.New(t).Interface().(interface{ TypeDescription() string }).TypeDescription()
}

// lookupComment gives the library the doc tag of a field (and a type's
// TypeDescription for the type itself).
func lookupComment(t reflect.Type, field string) string {
	if field == "" {
		return typeDescription(t)
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	if f, ok := t.FieldByName(field); ok {
		return describe(f)
	}
	return ""
}

// describe is a field's description: its doc tag, else its type's TypeDescription.
func describe(f reflect.StructField) string {
	if d := f.Tag.Get("doc"); d != "" {
		return d
	}
	return typeDescription(deref(f.Type))
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// nullable reports whether values of t can be null on the wire.
func nullable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer:
		return true
	case reflect.Map, reflect.Slice:
		// A value-receiver MarshalJSON runs for nil too, and decides.
		return !t.Implements(marshalerType) && !t.Implements(textMarshalerType)
	}
	return false
}

func requiredTag(f reflect.StructField) bool { return f.Tag.Get("required") == "true" }

func enumTag(f reflect.StructField) []string {
	tag, ok := f.Tag.Lookup("enum")
	if !ok || tag == "" {
		return nil
	}
	vals := strings.Split(tag, ",")
	for i := range vals {
		vals[i] = strings.TrimSpace(vals[i])
	}
	return vals
}

// applyEnum sets the allowed values on s, typed as s says: on each element of
// an array, on each non-null branch of an anyOf/oneOf.
func applyEnum(s *Schema, vals []string) {
	switch {
	case s == nil || s.Ref != "":
	case s.Type == "array":
		applyEnum(s.Items, vals)
	case len(s.AnyOf) > 0 || len(s.OneOf) > 0:
		for _, c := range append(append([]*Schema(nil), s.AnyOf...), s.OneOf...) {
			if c.Type != "null" {
				applyEnum(c, vals)
			}
		}
	default:
		enum := make([]any, 0, len(vals))
		for _, v := range vals {
			switch s.Type {
			case "integer":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					panic(fmt.Sprintf("schema: enum value %q is not an integer", v))
				}
				enum = append(enum, n)
			case "number":
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					panic(fmt.Sprintf("schema: enum value %q is not a number", v))
				}
				enum = append(enum, n)
			case "boolean":
				b, err := strconv.ParseBool(v)
				if err != nil {
					panic(fmt.Sprintf("schema: enum value %q is not a boolean", v))
				}
				enum = append(enum, b)
			default:
				enum = append(enum, v)
			}
		}
		s.Enum = enum
	}
}

type jsonField struct {
	name      string
	omitempty bool
	f         reflect.StructField
}

// jsonFields lists the JSON properties of struct type t in declaration order,
// embedded structs without a JSON name flattened (encoding/json's rules,
// without its tie-breaking between equal names: the shallower one wins).
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	seen := map[string]bool{}
	var visit func(t reflect.Type, depth int)
	visit = func(t reflect.Type, depth int) {
		var embedded []reflect.Type
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				if et := deref(f.Type); et.Kind() == reflect.Struct {
					embedded = append(embedded, et)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			omit := false
			for _, o := range strings.Split(opts, ",") {
				omit = omit || o == "omitempty" || o == "omitzero"
			}
			out = append(out, jsonField{name: name, omitempty: omit, f: f})
		}
		for _, et := range embedded {
			visit(et, depth+1)
		}
	}
	visit(t, 0)
	return out
}

var qualifier = regexp.MustCompile(`[\w./-]*\.`)
var nonName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// name gives each named type one definition name per mode, stable for the
// generator's life: the type's name (generic arguments without their
// packages); with an Input or Output suffix when the type already has it in
// the other mode; qualified by its package (and numbered) when another type
// has it.
func (g *Generator) name(t reflect.Type, m mode) string {
	k := typeMode{t, m}
	if n, ok := g.names[k]; ok {
		return n
	}
	if t.Name() == "" || t.PkgPath() == "" {
		return ""
	}
	base := strings.Trim(nonName.ReplaceAllString(qualifier.ReplaceAllString(t.Name(), ""), "_"), "_")
	n := base
	if other, taken := g.byName[n]; taken && other.t == t {
		n = base + [...]string{output: "Output", input: "Input"}[m]
	}
	if other, taken := g.byName[n]; taken && other != k {
		pkg := nonName.ReplaceAllString(t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:], "")
		if pkg == "" {
			pkg = "x"
		}
		qualified := strings.ToUpper(pkg[:1]) + pkg[1:] + n
		n = qualified
		for i := 2; ; i++ {
			if other, taken := g.byName[n]; !taken || other == k {
				break
			}
			n = qualified + strconv.Itoa(i)
		}
	}
	g.names[k], g.byName[n] = n, k
	return n
}

package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Args are the named parameters of one call as raw JSON values, whatever the
// transport: a JSON-RPC params object, or REST body + query + path merged.
type Args map[string]json.RawMessage

// Meta is the request metadata carried in double-underscore params.
type Meta struct {
	TZ             string // __tz
	IdempotencyKey string // __idempotency_key
}

// splitMeta removes __ params from args and returns them as Meta.
func splitMeta(args Args) (Meta, error) {
	var m Meta
	for k, raw := range args {
		if !strings.HasPrefix(k, "__") {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return m, InvalidField(k, "must be a string")
		}
		switch k {
		case "__tz":
			m.TZ = s
		case "__idempotency_key":
			if len(s) > 255 {
				return m, InvalidField(k, "must be at most 255 characters")
			}
			m.IdempotencyKey = s
		default:
			return m, InvalidField(k, "unknown request meta parameter")
		}
		delete(args, k)
	}
	return m, nil
}

// field is one bindable parameter of a params struct.
type field struct {
	index    []int
	typ      reflect.Type
	required bool
}

// paramFields returns the JSON-named fields of struct type t (embedded structs
// flattened), cached.
var fieldCache sync.Map

func paramFields(t reflect.Type) map[string]field {
	if v, ok := fieldCache.Load(t); ok {
		return v.(map[string]field)
	}
	out := map[string]field{}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			idx := append(append([]int(nil), prefix...), i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && f.Type.Kind() == reflect.Struct && name == "" {
				walk(f.Type, idx)
				continue
			}
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			out[name] = field{index: idx, typ: f.Type, required: f.Tag.Get("required") == "true"}
		}
	}
	if t.Kind() == reflect.Struct {
		walk(t, nil)
	}
	fieldCache.Store(t, out)
	return out
}

// ParamNames returns the parameter names a method accepts (for docs and REST).
func (m *Method) ParamNames() []string {
	fs := paramFields(m.ParamsType)
	out := make([]string, 0, len(fs))
	for k := range fs {
		out = append(out, k)
	}
	return out
}

// Validator is implemented by params that check themselves after binding.
type Validator interface {
	Validate() error
}

// bind decodes args into a fresh params value of m, field by field, so every
// error names its field; unknown and missing required fields are errors.
func bind(m *Method, args Args, loc *time.Location) (any, error) {
	p := m.NewParams()
	v := reflect.ValueOf(p).Elem()
	fields := paramFields(m.ParamsType)
	errs := Validation{}
	for name, raw := range args {
		f, ok := fields[name]
		if !ok {
			errs.Add(name, "unknown parameter")
			continue
		}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		dst := v.FieldByIndex(f.index)
		if err := json.Unmarshal(raw, dst.Addr().Interface()); err != nil {
			errs.Add(name, decodeMessage(err, f.typ))
		}
	}
	for name, f := range fields {
		if f.required && isMissing(args[name]) {
			errs.Add(name, "is required")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	resolveTimes(p, loc)
	if val, ok := p.(Validator); ok {
		if err := val.Validate(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func isMissing(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// decodeMessage turns a json decoding error into a message for the caller.
func decodeMessage(err error, t reflect.Type) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "must be " + describeType(te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "is not valid JSON"
	}
	var es errString
	if errors.As(err, &es) {
		return string(es)
	}
	if strings.Contains(err.Error(), "json:") {
		return "must be " + describeType(t)
	}
	return err.Error()
}

func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == paramTimeType || t == timeType {
		return "a datetime string"
	}
	if d, ok := reflect.New(t).Interface().(interface{ TypeDescription() string }); ok {
		return d.TypeDescription()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(describeType(t.Elem()), "an "), "a ")
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// StringArgs converts REST string values (path, query, form) into Args using the
// Go types of m's params: numbers and booleans become JSON numbers and booleans,
// list parameters take repeated and comma-separated values. Unknown names are
// passed on as strings so binding reports them.
func StringArgs(m *Method, vals map[string][]string) (Args, error) {
	fields := paramFields(m.ParamsType)
	out := make(Args, len(vals))
	errs := Validation{}
	for name, vs := range vals {
		if len(vs) == 0 {
			continue
		}
		f, ok := fields[name]
		if !ok {
			out[name] = mustJSON(vs[len(vs)-1])
			continue
		}
		raw, err := coerce(f.typ, vs)
		if err != nil {
			errs.Add(name, err.Error())
			continue
		}
		out[name] = raw
	}
	return out, errs.Err()
}

func coerce(t reflect.Type, vs []string) (json.RawMessage, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		var parts []string
		for _, v := range vs {
			if v == "" {
				continue
			}
			parts = append(parts, strings.Split(v, ",")...)
		}
		elems := make([]json.RawMessage, 0, len(parts))
		for _, p := range parts {
			e, err := coerce(t.Elem(), []string{strings.TrimSpace(p)})
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
		}
		return json.Marshal(elems)
	}
	s := vs[len(vs)-1]
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return nil, errString("must be an integer")
		}
		return json.RawMessage(s), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, err := strconv.ParseUint(s, 10, 64); err != nil {
			return nil, errString("must be a non-negative integer")
		}
		return json.RawMessage(s), nil
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errString("must be a number")
		}
		return json.Marshal(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, errString("must be a boolean")
		}
		return json.Marshal(b)
	case reflect.Map, reflect.Interface:
		if json.Valid([]byte(s)) {
			return json.RawMessage(s), nil
		}
	case reflect.Struct:
		if !reflect.PointerTo(t).Implements(unmarshalerType) && json.Valid([]byte(s)) {
			return json.RawMessage(s), nil
		}
	}
	return mustJSON(s), nil
}

func mustJSON(s string) json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprint("service: marshal string: ", err))
	}
	return b
}

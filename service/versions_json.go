package service

// Rendering results for older API versions: the JSON of a result with its
// datetimes rewritten, found through the result's Go types (versions.go).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// wireValuer is implemented by results whose JSON is another value (Page: its items).
type wireValuer interface {
	wireValue() any
}

func (p *Page[T]) wireValue() any {
	if p.Items == nil {
		return []T{}
	}
	return p.Items
}

var (
	marshalerType  = reflect.TypeFor[json.Marshaler]()
	wireValuerType = reflect.TypeFor[wireValuer]()
	jsonNull       = json.RawMessage("null")
	holdsTimeCache sync.Map // reflect.Type → bool
)

// holdsTime reports whether values of t can hold a time.Time or Time: like
// hasTime, and through map values too.
func holdsTime(t reflect.Type) bool {
	if v, ok := holdsTimeCache.Load(t); ok {
		return v.(bool)
	}
	holdsTimeCache.Store(t, false) // break cycles
	res := false
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType || t == paramTimeType {
			res = true
			break
		}
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); (f.IsExported() || f.Anonymous) && holdsTime(f.Type) {
				res = true
				break
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		res = holdsTime(t.Elem())
	case reflect.Interface:
		res = true
	}
	holdsTimeCache.Store(t, res)
	return res
}

// marshalTimes returns the JSON of v, as encoding/json writes it, except that
// every time.Time and Time is written as times(t). The datetimes are found by
// v's Go types (fields, elements, map values, the dynamic values of
// interfaces), never by looking at strings; a value whose type holds no
// datetime, or that encodes itself (MarshalJSON), is left to encoding/json.
// With times nil it is json.Marshal.
func marshalTimes(v reflect.Value, times func(time.Time) any) (json.RawMessage, error) {
	if !v.IsValid() {
		return jsonNull, nil
	}
	t := v.Type()
	if times == nil || !holdsTime(t) {
		return json.Marshal(v.Interface())
	}
	switch t {
	case timeType:
		return json.Marshal(times(v.Interface().(time.Time)))
	case paramTimeType:
		return json.Marshal(times(v.Interface().(Time).Time))
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return jsonNull, nil
		}
		if w, ok := v.Interface().(wireValuer); ok {
			return marshalTimes(reflect.ValueOf(w.wireValue()), times)
		}
		return marshalTimes(v.Elem(), times)
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && v.IsNil() {
			return jsonNull, nil
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			e, err := marshalTimes(v.Index(i), times)
			if err != nil {
				return nil, err
			}
			b.Write(e)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	case reflect.Map:
		return marshalMapTimes(v, times)
	case reflect.Struct:
		if t.Implements(marshalerType) || (v.CanAddr() && reflect.PointerTo(t).Implements(marshalerType)) {
			return json.Marshal(v.Interface()) // encodes itself (see opaqueTimes)
		}
		return marshalStructTimes(v, times)
	}
	return json.Marshal(v.Interface())
}

// marshalMapTimes writes a map with string or integer keys, sorted as
// encoding/json sorts them; any other map is left to encoding/json.
func marshalMapTimes(v reflect.Value, times func(time.Time) any) (json.RawMessage, error) {
	if v.IsNil() {
		return jsonNull, nil
	}
	if v.Type().Implements(marshalerType) {
		return json.Marshal(v.Interface())
	}
	members := make([]member, 0, v.Len())
	vals := make(map[string]reflect.Value, v.Len())
	for it := v.MapRange(); it.Next(); {
		k := it.Key()
		var ks string
		switch k.Kind() {
		case reflect.String:
			ks = k.String()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			ks = strconv.FormatInt(k.Int(), 10)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			ks = strconv.FormatUint(k.Uint(), 10)
		default:
			return json.Marshal(v.Interface())
		}
		members = append(members, member{key: ks})
		vals[ks] = it.Value()
	}
	sort.Slice(members, func(i, j int) bool { return members[i].key < members[j].key })
	for i := range members {
		val, err := marshalTimes(vals[members[i].key], times)
		if err != nil {
			return nil, err
		}
		members[i].val = val
	}
	return encodeObject(members)
}

// marshalStructTimes lets encoding/json write the struct (so its rules on
// names, omitempty and embedding hold), then rewrites the members whose Go
// fields hold datetimes.
func marshalStructTimes(v reflect.Value, times func(time.Time) any) (json.RawMessage, error) {
	raw, err := json.Marshal(v.Interface())
	if err != nil {
		return nil, err
	}
	members, err := objectMembers(raw)
	if err != nil {
		return nil, err
	}
	fields := resultFields(v.Type())
	for i := range members {
		f, ok := fields[members[i].key]
		if !ok || f.index == nil || !holdsTime(f.typ) {
			continue
		}
		fv, err := v.FieldByIndexErr(f.index)
		if err != nil || !fv.CanInterface() {
			continue // behind a nil embedded pointer, or unexported: as encoding/json wrote it
		}
		if members[i].val, err = marshalTimes(fv, times); err != nil {
			return nil, err
		}
	}
	return encodeObject(members)
}

// member is one member of a JSON object.
type member struct {
	key string
	val json.RawMessage
}

// objectMembers splits a JSON object into its members, in order.
func objectMembers(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object: %.40s", raw)
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		out = append(out, member{key, val})
	}
	return out, nil
}

func encodeObject(members []member) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// resultField is a struct field by its JSON name; index nil marks a name
// encoding/json drops (two fields at the same depth).
type resultField struct {
	index []int
	typ   reflect.Type
}

var resultFieldCache sync.Map // reflect.Type → map[string]resultField

// resultFields maps the JSON names of struct type t to its fields, with
// encoding/json's embedding rules: embedded structs (or pointers to them)
// without a JSON name are flattened, a shallower field hides deeper ones.
func resultFields(t reflect.Type) map[string]resultField {
	if v, ok := resultFieldCache.Load(t); ok {
		return v.(map[string]resultField)
	}
	type level struct {
		t     reflect.Type
		index []int
	}
	out := map[string]resultField{}
	current := []level{{t, nil}}
	for depth := 0; len(current) > 0 && depth < 16; depth++ {
		var next []level
		here := map[string]resultField{}
		for _, l := range current {
			for i := 0; i < l.t.NumField(); i++ {
				f := l.t.Field(i)
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				idx := append(slices.Clone(l.index), i)
				if f.Anonymous && name == "" {
					et := f.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if et.Kind() == reflect.Struct {
						next = append(next, level{et, idx})
						continue
					}
				}
				if !f.IsExported() {
					continue
				}
				if name == "" {
					name = f.Name
				}
				if _, hidden := out[name]; hidden {
					continue
				}
				if _, dup := here[name]; dup {
					here[name] = resultField{}
					continue
				}
				here[name] = resultField{index: idx, typ: f.Type}
			}
		}
		for k, f := range here {
			out[k] = f
		}
		current = next
	}
	resultFieldCache.Store(t, out)
	return out
}

// opaqueTimes returns the types reachable from t (through fields, elements and
// map values) that hold datetimes but encode themselves (MarshalJSON), so that
// marshalTimes cannot render their datetimes. A test keeps the registry's
// result types free of them.
func opaqueTimes(t reflect.Type) []string {
	var out []string
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] || !holdsTime(t) || t == timeType || t == paramTimeType {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			walk(t.Elem())
			return
		case reflect.Interface:
			return
		}
		if reflect.PointerTo(t).Implements(wireValuerType) {
			if it, ok := reflect.New(t).Interface().(interface{ ItemType() reflect.Type }); ok {
				walk(it.ItemType())
			} else {
				out = append(out, t.String()+" (wireValue without ItemType)")
			}
			return
		}
		if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
			out = append(out, t.String())
			return
		}
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() || f.Anonymous {
				walk(f.Type)
			}
		}
	}
	walk(t)
	return out
}

package service

import (
	"encoding/json"
	"reflect"
	"sync"
	"time"

	"github.com/billgate/billgate/pkg/tz"
)

// Time is a datetime parameter. A value with an offset keeps it; one without
// (2025-01-31 10:00:00, 2025-01-31) is read in the call's zone (__tz, the user's
// zone, or the server's), which the binder applies after decoding.
type Time struct {
	time.Time
	naive bool
}

// UnmarshalJSON reads an RFC 3339 datetime or a zone-less date/datetime.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errString("must be a datetime string")
	}
	v, naive, err := tz.Parse(s, time.UTC)
	if err != nil {
		return errString(err.Error())
	}
	if u := v.UTC(); u.Before(minTime) || !u.Before(maxTime) {
		return errString("out of range: must lie between 0001-01-03 and 9999-12-28")
	}
	t.Time, t.naive = v.UTC(), naive
	if naive {
		t.Time = v // wall clock in UTC until resolved
	}
	return nil
}

// The range of datetime params. JSON (RFC 3339) has the years 0000 to 9999;
// two days of margin at each end keep a value inside them wherever it is read
// (a zone-less value moves by the zone's offset) and rendered (__tz).
var (
	minTime = time.Date(1, 1, 3, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 29, 0, 0, 0, 0, time.UTC)
)

// MarshalJSON writes RFC 3339.
func (t Time) MarshalJSON() ([]byte, error) { return json.Marshal(t.Time) }

// In returns t as a time.Time (nil-safe for optional params).
func (t *Time) In() *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

type errString string

func (e errString) Error() string { return string(e) }

var (
	timeType      = reflect.TypeFor[time.Time]()
	paramTimeType = reflect.TypeFor[Time]()
	hasTimeCache  sync.Map // reflect.Type → bool
)

// hasTime reports whether values of t can contain a time.Time or Time. The
// answer is cached per type once known; a type being computed is never
// published as "no" (a provisional answer, seen by a concurrent first call,
// would leave that call's datetimes unlocalised).
func hasTime(t reflect.Type) bool {
	if v, ok := hasTimeCache.Load(t); ok {
		return v.(bool)
	}
	res := typeHasTime(t, map[reflect.Type]bool{})
	hasTimeCache.Store(t, res)
	return res
}

// typeHasTime computes hasTime; visiting breaks cycles of recursive types.
func typeHasTime(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if v, ok := hasTimeCache.Load(t); ok {
		return v.(bool)
	}
	if visiting[t] {
		return false // a cycle adds nothing its other paths do not
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType || t == paramTimeType {
			return true
		}
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() && typeHasTime(t.Field(i).Type, visiting) {
				return true
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return typeHasTime(t.Elem(), visiting)
	case reflect.Interface:
		return true
	}
	return false
}

// walkTimes calls fn on every settable time.Time and Time reachable from v.
func walkTimes(v reflect.Value, fn func(reflect.Value)) {
	if !v.IsValid() || !hasTime(v.Type()) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkTimes(v.Elem(), fn)
		}
	case reflect.Struct:
		if v.Type() == timeType || v.Type() == paramTimeType {
			if v.CanSet() {
				fn(v)
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walkTimes(v.Field(i), fn)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkTimes(v.Index(i), fn)
		}
	}
}

// resolveTimes reads every zone-less Time parameter in p in loc.
func resolveTimes(p any, loc *time.Location) {
	walkTimes(reflect.ValueOf(p), func(v reflect.Value) {
		if v.Type() != paramTimeType {
			return
		}
		t := v.Addr().Interface().(*Time)
		if t.naive {
			t.Time, t.naive = tz.Rewall(t.Time, loc).UTC(), false
		}
	})
}

// Localize renders every time.Time reachable from a result in loc, in place.
// Results are built fresh for each call, so changing them is safe.
func Localize(result any, loc *time.Location) {
	if loc == nil || result == nil {
		return
	}
	walkTimes(reflect.ValueOf(result), func(v reflect.Value) {
		switch v.Type() {
		case timeType:
			t := v.Interface().(time.Time)
			if !t.IsZero() {
				v.Set(reflect.ValueOf(tz.In(t, loc)))
			}
		case paramTimeType:
			t := v.Addr().Interface().(*Time)
			if !t.IsZero() {
				t.Time = tz.In(t.Time, loc)
			}
		}
	})
}

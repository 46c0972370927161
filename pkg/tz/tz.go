// Package tz parses datetimes and IANA zone names. Zone data is embedded in the
// binary (time/tzdata) so zones work on machines without a zoneinfo database.
package tz

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // embed the IANA database
)

var cache sync.Map // name → *time.Location

// Load returns the location named by an IANA name such as "America/New_York".
// "UTC" and "Local" are accepted; an empty or unknown name is an error.
func Load(name string) (*time.Location, error) {
	if name == "" {
		return nil, errors.New("empty time zone name")
	}
	if l, ok := cache.Load(name); ok {
		return l.(*time.Location), nil
	}
	if len(name) > 64 || strings.ContainsAny(name, " \\\x00") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	cache.Store(name, loc)
	return loc, nil
}

// layouts with an explicit offset: the value keeps its own zone.
var offsetLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999Z07",
}

// layouts without an offset: the value is read in the request's zone.
var naiveLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// Parse reads s as a datetime. A value with an offset (RFC 3339, "+0300", "Z")
// keeps it; a value without one ("2025-01-31 10:00:00", "2025-01-31T10:00:00",
// "2025-01-31") is read in loc. naive reports which case applied.
func Parse(s string, loc *time.Location) (t time.Time, naive bool, err error) {
	s = strings.TrimSpace(s)
	if len(s) < 10 || len(s) > 40 {
		return time.Time{}, false, fmt.Errorf("%q is not a datetime (want RFC 3339, e.g. 2025-01-31T10:00:00Z)", s)
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, l := range offsetLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, false, nil
		}
	}
	for _, l := range naiveLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%q is not a datetime (want RFC 3339, e.g. 2025-01-31T10:00:00Z)", s)
}

// Rewall reinterprets the wall clock of t (read as UTC) in loc.
func Rewall(t time.Time, loc *time.Location) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), loc)
}

// In returns t in loc for rendering as RFC 3339, whose offsets have whole
// minutes only. Where loc's offset at t has seconds (local mean time before
// standard time, e.g. Pacific/Kiritimati before 1901, Africa/Monrovia until
// 1972), the offset cannot be written without losing them, so t is returned in
// UTC instead: the instant survives, which is what matters.
func In(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	if _, off := l.Zone(); off%60 != 0 {
		return t.UTC()
	}
	return l
}

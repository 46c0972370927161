package tz

import (
	"strings"
	"testing"
	"time"
)

// FuzzLoad feeds zone names as they arrive in __tz: Load must never panic,
// must refuse what could reach outside the embedded database (paths, NUL,
// over-long names, "Local"), and a zone it accepts must be that zone, cached,
// and usable to read and render datetimes.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{"UTC", "America/New_York", "Asia/Kathmandu", "Etc/GMT+12", "Local", "",
		"../../etc/passwd", "America/../UTC", "/usr/share/zoneinfo/UTC", "Europe/Berlin\x00", "a b", `Asia\Tokyo`,
		strings.Repeat("A", 65), "EST5EDT", "Pacific/Kiritimati"} {
		f.Add(s, "2025-03-30 02:30:00")
	}
	f.Fuzz(func(t *testing.T, name, datetime string) {
		loc, err := Load(name)
		if err != nil {
			if loc != nil {
				t.Fatalf("Load(%q) returned a location with error %v", name, err)
			}
			return
		}
		if name == "" || name == "Local" || len(name) > 64 || strings.Contains(name, "..") ||
			strings.ContainsAny(name, " \\\x00") || strings.HasPrefix(name, "/") {
			t.Fatalf("Load(%q) accepted", name)
		}
		if loc.String() != name {
			t.Fatalf("Load(%q) = %q", name, loc)
		}
		again, err := Load(name)
		if err != nil || again != loc {
			t.Fatalf("Load(%q) again: %v %v", name, again, err)
		}
		got, naive, err := Parse(datetime, loc)
		if err != nil {
			return
		}
		if naive {
			// A zone-less value is read in loc: rendered there, it keeps its wall
			// clock unless it fell into a gap (a DST jump), which moves it forward.
			want, _, _ := Parse(datetime, time.UTC)
			if w := Rewall(want, loc); !w.Equal(got) {
				t.Fatalf("Parse(%q, %s) = %v, Rewall gives %v", datetime, name, got, w)
			}
		}
		rendered := In(got, loc).Format(time.RFC3339Nano)
		back, naive2, err := Parse(rendered, time.UTC)
		if err != nil || naive2 || !back.Equal(got) {
			t.Fatalf("%q in %s rendered %q read back as %v (%v)", datetime, name, rendered, back, err)
		}
	})
}

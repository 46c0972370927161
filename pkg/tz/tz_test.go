package tz

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	ny, err := Load("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in    string
		want  string
		naive bool
	}{
		{"2025-01-31T10:00:00Z", "2025-01-31T10:00:00Z", false},
		{"2025-01-31T10:00:00+03:00", "2025-01-31T07:00:00Z", false},
		{"2025-01-31 10:00:00+0300", "2025-01-31T07:00:00Z", false},
		{"2025-01-31 10:00:00", "2025-01-31T15:00:00Z", true},
		{"2025-01-31T10:00:00", "2025-01-31T15:00:00Z", true},
		{"2025-01-31", "2025-01-31T05:00:00Z", true},
		{"2025-07-01 10:00:00.5", "2025-07-01T14:00:00.5Z", true},
	}
	for _, c := range cases {
		got, naive, err := Parse(c.in, ny)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got.UTC().Format(time.RFC3339Nano) != c.want || naive != c.naive {
			t.Errorf("Parse(%q) = %s naive=%v, want %s naive=%v", c.in, got.UTC().Format(time.RFC3339Nano), naive, c.want, c.naive)
		}
	}
	for _, bad := range []string{"", "yesterday", "2025-13-01", "2025-02-30", "31/01/2025", "2025-01-31T25:00:00Z"} {
		if _, _, err := Parse(bad, ny); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestLoad(t *testing.T) {
	for _, bad := range []string{"", "Mars/Olympus", "Local", "../../etc/passwd", "America/New York"} {
		if _, err := Load(bad); err == nil {
			t.Errorf("Load(%q) accepted", bad)
		}
	}
	if l, err := Load("Asia/Kathmandu"); err != nil || l.String() != "Asia/Kathmandu" {
		t.Fatalf("Load: %v %v", l, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2025-01-31", "2025-01-31T10:00:00Z", "2025-01-31 10:00:00+0300", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _, err := Parse(s, time.UTC)
		if err != nil {
			return
		}
		// Whatever parses must survive an RFC 3339 round trip unchanged.
		again, naive, err := Parse(got.Format(time.RFC3339Nano), time.UTC)
		if err != nil || naive || !again.Equal(got) {
			t.Fatalf("round trip of %q: %v %v %v", s, got, again, err)
		}
	})
}

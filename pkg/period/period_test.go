package period

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/tz"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := tz.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestCivilSettlesTheDSTCases pins the two cases time.Date leaves open.
func TestCivilSettlesTheDSTCases(t *testing.T) {
	cases := []struct {
		zone  string
		local [5]int // y m d hh mm
		want  string
	}{
		{"America/New_York", [5]int{2025, 3, 9, 2, 30}, "2025-03-09T03:30:00-04:00"},     // spring gap
		{"Europe/Berlin", [5]int{2025, 3, 30, 2, 30}, "2025-03-30T03:30:00+02:00"},       // spring gap
		{"America/Sao_Paulo", [5]int{2018, 11, 4, 0, 0}, "2018-11-04T01:00:00-02:00"},    // midnight gap
		{"America/New_York", [5]int{2025, 11, 2, 1, 30}, "2025-11-02T01:30:00-04:00"},    // overlap: first
		{"Europe/Berlin", [5]int{2025, 10, 26, 2, 30}, "2025-10-26T02:30:00+02:00"},      // overlap: first
		{"America/Sao_Paulo", [5]int{2019, 2, 16, 23, 30}, "2019-02-16T23:30:00-02:00"},  // overlap: first
		{"Australia/Lord_Howe", [5]int{2024, 10, 6, 2, 15}, "2024-10-06T02:45:00+11:00"}, // 30-minute gap
		{"Europe/Berlin", [5]int{2025, 6, 1, 0, 0}, "2025-06-01T00:00:00+02:00"},
	}
	for _, c := range cases {
		loc := mustLoc(t, c.zone)
		got := Civil(c.local[0], time.Month(c.local[1]), c.local[2], c.local[3], c.local[4], 0, 0, loc)
		if s := got.Format(time.RFC3339); s != c.want {
			t.Errorf("%s %v: %s, want %s", c.zone, c.local, s, c.want)
		}
	}
}

// TestMonthEndsAndLeapYears: the anchor day is kept, clamped, and restored.
func TestMonthEndsAndLeapYears(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	check := func(anchor time.Time, u Unit, want ...string) {
		t.Helper()
		for k, w := range want {
			if got := Boundary(anchor, u, k, berlin).Format("2006-01-02T15:04:05Z07:00"); got != w {
				t.Errorf("%s %s #%d: %s, want %s", anchor, u, k, got, w)
			}
		}
	}
	check(time.Date(2024, 1, 31, 0, 0, 0, 0, berlin), Month,
		"2024-01-31T00:00:00+01:00", "2024-02-29T00:00:00+01:00", "2024-03-31T00:00:00+01:00",
		"2024-04-30T00:00:00+02:00", "2024-05-31T00:00:00+02:00", "2024-06-30T00:00:00+02:00")
	check(time.Date(2023, 1, 31, 9, 15, 0, 0, berlin), Month,
		"2023-01-31T09:15:00+01:00", "2023-02-28T09:15:00+01:00", "2023-03-31T09:15:00+02:00")
	check(time.Date(2024, 2, 29, 0, 0, 0, 0, berlin), Year,
		"2024-02-29T00:00:00+01:00", "2025-02-28T00:00:00+01:00", "2026-02-28T00:00:00+01:00",
		"2027-02-28T00:00:00+01:00", "2028-02-29T00:00:00+01:00")
	check(time.Date(2099, 12, 31, 0, 0, 0, 0, berlin), Month, // 2100 is not a leap year
		"2099-12-31T00:00:00+01:00", "2100-01-31T00:00:00+01:00", "2100-02-28T00:00:00+01:00", "2100-03-31T00:00:00+02:00")
	check(time.Date(2025, 3, 24, 0, 0, 0, 0, berlin), Week, // across the spring change
		"2025-03-24T00:00:00+01:00", "2025-03-31T00:00:00+02:00", "2025-04-07T00:00:00+02:00")
	if got := AddDays(time.Date(2096, 1, 17, 10, 0, 0, 0, berlin), 14, berlin); !got.Equal(time.Date(2096, 1, 31, 10, 0, 0, 0, berlin)) {
		t.Errorf("AddDays 14: %s", got)
	}
	if got := Boundary(time.Date(2024, 1, 31, 0, 0, 0, 0, berlin), Month, -2, berlin); got.Format(time.DateOnly) != "2023-11-30" {
		t.Errorf("two months before Jan 31: %s", got)
	}
}

// expectedDate computes the k-th boundary's local date by counting months
// (or days) one at a time, independently of Boundary's arithmetic.
func expectedDate(y int, m time.Month, d int, u Unit, k int) (int, time.Month, int) {
	switch u {
	case Week:
		days := 7 * k
		for ; days > 0; days-- {
			d++
			if d > DaysIn(y, m) {
				d, m = 1, m+1
				if m > 12 {
					m, y = 1, y+1
				}
			}
		}
		return y, m, d
	case Year:
		k *= 12
	}
	day := d
	for ; k > 0; k-- {
		m++
		if m > 12 {
			m, y = 1, y+1
		}
	}
	return y, m, min(day, DaysIn(y, m))
}

var propertyZones = []string{"UTC", "America/New_York", "Europe/Berlin", "America/Sao_Paulo",
	"Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kolkata", "America/Santiago"}

// TestPeriodsTileTime: for every day of 2016–2019 as an anchor (at 00:00 and
// 02:30 — inside most spring gaps), in zones with and without
// DST (São Paulo and Santiago changed at midnight then; Lord Howe by 30
// minutes), for each schedule: boundaries fall on the expected local date,
// keep the anchor's wall clock unless it does not exist that day (then they
// are later by exactly the gap), restore the anchor day after a short month,
// have plausible lengths, and At tiles time with no gap and no overlap.
func TestPeriodsTileTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 2025))
	counts := map[Unit]int{Week: 8, Month: 14, Year: 5}
	limits := map[Unit][2]time.Duration{
		Week:  {7*24*time.Hour - 2*time.Hour, 7*24*time.Hour + 2*time.Hour},
		Month: {28*24*time.Hour - 2*time.Hour, 31*24*time.Hour + 2*time.Hour},
		Year:  {365*24*time.Hour - 2*time.Hour, 366*24*time.Hour + 2*time.Hour},
	}
	stepDays := 1 // every day: a few seconds
	if testing.Short() {
		stepDays = 7
	}
	for _, zone := range propertyZones {
		loc := mustLoc(t, zone)
		checked := 0
		for day := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() < 2020; day = day.AddDate(0, 0, stepDays) {
			for _, clock := range [][2]int{{0, 0}, {2, 30}} {
				anchor := Civil(day.Year(), day.Month(), day.Day(), clock[0], clock[1], 0, 0, loc)
				ay, am, ad := anchor.Date()
				ah, amin, _ := anchor.Clock()
				for _, u := range []Unit{Week, Month, Year} {
					prev := time.Time{}
					for k := 0; k <= counts[u]; k++ {
						b := Boundary(anchor, u, k, loc).In(loc)
						ey, em, ed := expectedDate(ay, am, ad, u, k)
						if by, bm, bd := b.Date(); by != ey || bm != em || bd != ed {
							t.Fatalf("%s %s anchor %s #%d: %s, want date %d-%02d-%02d", zone, u, anchor, k, b, ey, em, ed)
						}
						if u == Week && b.Weekday() != anchor.Weekday() {
							t.Fatalf("%s weekly anchor %s #%d: %s on another weekday", zone, anchor, k, b)
						}
						if h, mi, _ := b.Clock(); h != ah || mi != amin {
							// Only a daylight-saving gap may move the wall clock, and by its length.
							_, offNow := b.Zone()
							_, offBefore := b.Add(-3 * time.Hour).Zone()
							shift := (h*60 + mi) - (ah*60 + amin)
							if offNow <= offBefore || shift*60 != offNow-offBefore {
								t.Fatalf("%s %s anchor %s #%d: %s changed the wall clock by %d min outside a gap", zone, u, anchor, k, b, shift)
							}
						}
						if !prev.IsZero() {
							if d := b.Sub(prev); d < limits[u][0] || d > limits[u][1] {
								t.Fatalf("%s %s anchor %s #%d: period of %s", zone, u, anchor, k, d)
							}
							// Tiling: the boundary starts a period, and a random instant
							// before it lies in exactly the previous one (so the periods
							// meet: no gap, no overlap).
							if s, e, kk := At(anchor, u, b, loc); !s.Equal(b) || kk != k || !e.Equal(Boundary(anchor, u, k+1, loc)) {
								t.Fatalf("%s %s anchor %s: At(boundary #%d %s) = [%s, %s) #%d", zone, u, anchor, k, b, s, e, kk)
							}
							inside := prev.Add(time.Duration(rng.Int64N(int64(b.Sub(prev)))))
							if s, e, _ := At(anchor, u, inside, loc); !s.Equal(prev) || !e.Equal(b) || !Next(anchor, u, inside, loc).Equal(e) {
								t.Fatalf("%s %s anchor %s: At(%s) = [%s, %s), want [%s, %s)", zone, u, anchor, inside, s, e, prev, b)
							}
						}
						prev = b
						checked++
					}
				}
			}
		}
		if checked == 0 {
			t.Fatalf("%s: nothing checked", zone)
		}
	}
}

// TestMonthlyMidnightStaysMidnight: a monthly period starting at local
// midnight starts at local midnight in every month, across both DST changes,
// in zones where midnight always exists.
func TestMonthlyMidnightStaysMidnight(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Australia/Sydney", "Europe/London"} {
		loc := mustLoc(t, zone)
		anchor := time.Date(2024, 1, 31, 0, 0, 0, 0, loc)
		for k := range 48 {
			b := Boundary(anchor, Month, k, loc)
			if h, m, s := b.Clock(); h != 0 || m != 0 || s != 0 {
				t.Errorf("%s #%d: %s is not local midnight", zone, k, b)
			}
			if d := b.Day(); d != min(31, DaysIn(b.Year(), b.Month())) {
				t.Errorf("%s #%d: %s is not the 31st or the month's last day", zone, k, b)
			}
		}
	}
}

// TestBeforeTheAnchor: At also works for instants before the anchor.
func TestBeforeTheAnchor(t *testing.T) {
	loc := mustLoc(t, "Europe/Berlin")
	anchor := time.Date(2024, 3, 31, 0, 0, 0, 0, loc)
	s, e, k := At(anchor, Month, time.Date(2024, 2, 10, 0, 0, 0, 0, loc), loc)
	if k != -2 || s.Format(time.DateOnly) != "2024-01-31" || e.Format(time.DateOnly) != "2024-02-29" {
		t.Errorf("At before the anchor: [%s, %s) #%d", s, e, k)
	}
}

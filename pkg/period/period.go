// Package period computes billing period boundaries in a customer's time zone:
// weekly, monthly and yearly schedules from an anchor, month ends (an anchor on
// the 31st bills on Feb 28/29 and comes back to the 31st in March), leap years,
// and daylight-saving changes (a period that starts at 00:00 local time starts
// at 00:00 local time all year round).
//
// Periods are half-open [start, end) and are derived from the anchor alone,
// never from the previous boundary, so clamping to a short month never drifts.
package period

import (
	"fmt"
	"time"
)

// Unit is the length of a recurring schedule.
type Unit string

// The schedules of a recurring price.
const (
	Week  Unit = "week"
	Month Unit = "month"
	Year  Unit = "year"
)

// Valid reports whether u is a recurring schedule.
func (u Unit) Valid() bool { return u == Week || u == Month || u == Year }

// Boundary returns the k-th boundary of schedule u anchored at anchor, in loc
// (k may be negative; Boundary(anchor, u, 0, loc) is anchor itself). The
// anchor's local wall clock is kept; monthly and yearly boundaries keep the
// anchor's day of month, clamped to the last day of a shorter month; weekly
// ones keep its weekday. A wall clock that does not exist on that day (a
// daylight-saving gap) is read as the same clock before the change, so it
// lands later by the length of the gap (00:00 in a midnight gap → 01:00).
// It panics on an invalid unit (a programming error: units are validated at
// the API).
func Boundary(anchor time.Time, u Unit, k int, loc *time.Location) time.Time {
	a := anchor.In(loc)
	y, m, d := a.Date()
	hh, mm, ss := a.Clock()
	ns := a.Nanosecond()
	switch u {
	case Week:
		return AddDays(anchor, 7*k, loc)
	case Month, Year:
		months := k
		if u == Year {
			months = 12 * k
		}
		total := y*12 + int(m-1) + months
		ny, nm := floorDiv(total, 12), time.Month(floorMod(total, 12)+1)
		return Civil(ny, nm, min(d, DaysIn(ny, nm)), hh, mm, ss, ns, loc)
	}
	panic(fmt.Sprintf("period: unknown unit %q", u))
}

// At returns the period of schedule u anchored at anchor that contains t:
// start ≤ t < end, start = Boundary(anchor, u, k, loc), end = Boundary(…, k+1, …).
func At(anchor time.Time, u Unit, t time.Time, loc *time.Location) (start, end time.Time, k int) {
	a, lt := anchor.In(loc), t.In(loc)
	switch u {
	case Week:
		k = int(lt.Sub(a) / (7 * 24 * time.Hour))
	case Month:
		k = (lt.Year()*12 + int(lt.Month())) - (a.Year()*12 + int(a.Month()))
	case Year:
		k = lt.Year() - a.Year()
	default:
		panic(fmt.Sprintf("period: unknown unit %q", u))
	}
	// The estimate is off by at most one or two periods (week lengths change
	// by an hour at most with DST; a month index ignores the day): settle it
	// with a bounded walk.
	start, end = Boundary(anchor, u, k, loc), Boundary(anchor, u, k+1, loc)
	for range 4 {
		switch {
		case start.After(t):
			k, end = k-1, start
			start = Boundary(anchor, u, k, loc)
		case !end.After(t):
			k, start = k+1, end
			end = Boundary(anchor, u, k+1, loc)
		default:
			return start, end, k
		}
	}
	return start, end, k
}

// Next returns the first boundary of schedule u anchored at anchor that is
// strictly after t.
func Next(anchor time.Time, u Unit, t time.Time, loc *time.Location) time.Time {
	_, end, _ := At(anchor, u, t, loc)
	return end
}

// AddDays moves t by n calendar days in loc, keeping its local wall clock
// (with the same daylight-saving rule as Boundary): trial lengths, weeks.
func AddDays(t time.Time, n int, loc *time.Location) time.Time {
	a := t.In(loc)
	y, m, d := a.Date()
	hh, mm, ss := a.Clock()
	cy, cm, cd := time.Date(y, m, d+n, 12, 0, 0, 0, time.UTC).Date()
	return Civil(cy, cm, cd, hh, mm, ss, a.Nanosecond(), loc)
}

// Civil returns the instant of the local date and wall clock y-m-d hh:mm:ss.ns
// in loc. time.Date leaves the two daylight-saving cases open ("the choice of
// time zone is not guaranteed") and, in a gap, answers differently by zone
// (02:30 in New York's spring gap gives 01:30; 00:00 in São Paulo's midnight
// gap gives 23:00 the day before). Civil settles both:
//
//   - a wall clock that occurs twice (the autumn overlap) is its first
//     occurrence;
//   - a wall clock that does not occur (the spring gap) is read with the
//     offset in force before the gap, so it lands later by the gap's length
//     (02:30 → 03:30; a midnight gap's 00:00 → 01:00).
func Civil(y int, m time.Month, d, hh, mm, ss, ns int, loc *time.Location) time.Time {
	naive := time.Date(y, m, d, hh, mm, ss, ns, time.UTC)
	guess := time.Date(y, m, d, hh, mm, ss, ns, loc)
	// The offsets that can apply: the one of Go's guess and those of the
	// zones just before and after it.
	offsets := []int{offsetAt(guess)}
	start, end := guess.ZoneBounds()
	if !start.IsZero() {
		offsets = append(offsets, offsetAt(start.Add(-time.Nanosecond)))
	}
	if !end.IsZero() {
		offsets = append(offsets, offsetAt(end))
	}
	var best time.Time
	for _, off := range offsets {
		t := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if sameWall(t, naive) && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if !best.IsZero() {
		return best
	}
	// A gap: find the transition whose skipped wall clocks contain naive and
	// read naive with the offset before it.
	for _, tr := range []time.Time{start, end} {
		if tr.IsZero() {
			continue
		}
		before, after := offsetAt(tr.Add(-time.Nanosecond)), offsetAt(tr)
		from := tr.Add(time.Duration(before) * time.Second).UTC() // first skipped wall clock, as naive UTC
		to := tr.Add(time.Duration(after) * time.Second).UTC()
		if after > before && !naive.Before(from) && naive.Before(to) {
			return naive.Add(-time.Duration(before) * time.Second).In(loc)
		}
	}
	return guess // unreachable with consistent zone data
}

func offsetAt(t time.Time) int {
	_, off := t.Zone()
	return off
}

// sameWall reports whether t's local wall clock is naive's (naive in UTC).
func sameWall(t, naive time.Time) bool {
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	return y == naive.Year() && m == naive.Month() && d == naive.Day() && hh == naive.Hour() &&
		mm == naive.Minute() && ss == naive.Second() && t.Nanosecond() == naive.Nanosecond()
}

// DaysIn returns the number of days of month m of year y (leap years included).
func DaysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

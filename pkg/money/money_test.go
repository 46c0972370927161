package money

import (
	"math"
	"math/big"
	"testing"
)

func TestConvert(t *testing.T) {
	cases := []struct {
		amount         int64
		fromExp, toExp int
		rate           string
		want           int64
	}{
		{1000, 2, 2, "1.0842", 1084},       // 10.00 EUR → 10.842 USD → 10.84
		{1005, 2, 2, "0.5", 502},           // 5.025 → half even → 5.02
		{1015, 2, 2, "0.5", 508},           // 5.075 → 5.08
		{1000, 2, 0, "161.5", 1615},        // 10.00 USD → 1615 JPY
		{1615, 0, 2, "0.0061919505", 1000}, // back
		{1000, 2, 3, "0.377", 3770},        // USD → BHD (3 decimals)
		{-1005, 2, 2, "0.5", -502},         // negative half even
		{1, 2, 2, "0.5", 0},                // 0.005 → 0.00 (even)
		{3, 2, 2, "0.5", 2},                // 0.015 → 0.02 (even)
	}
	for _, c := range cases {
		got, err := Convert(c.amount, c.fromExp, c.toExp, MustRate(c.rate))
		if err != nil || got != c.want {
			t.Errorf("Convert(%d, %d→%d, %s) = %d, %v; want %d", c.amount, c.fromExp, c.toExp, c.rate, got, err, c.want)
		}
	}
	if _, err := Convert(math.MaxInt64, 0, 3, MustRate("1000")); err != ErrOverflow {
		t.Errorf("overflow not detected: %v", err)
	}
}

func TestParseRateAndString(t *testing.T) {
	for in, want := range map[string]string{"1.0842": "1.0842", "2": "2", "0.000001": "0.000001", "1.50": "1.5", "161.500": "161.5"} {
		r, err := ParseRate(in)
		if err != nil || r.String() != want {
			t.Errorf("%s → %q %v, want %q", in, r.String(), err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "1e5", "abc", "1/3", "+2", "NaN", "Inf"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	if got := MustRate("1.0842").Inverse().String(); got != "0.922339051835" {
		t.Errorf("inverse %s", got)
	}
	if got := MustRate("1.1").Mul(MustRate("161.5")).String(); got != "177.65" {
		t.Errorf("cross %s", got)
	}
}

func TestRoundHalfEvenAgreesWithBigFloat(t *testing.T) {
	for num := int64(-2000); num <= 2000; num += 7 {
		for _, den := range []int64{2, 3, 4, 8, 10, 1000} {
			got, _ := Round(big.NewRat(num, den))
			f := float64(num) / float64(den)
			want := int64(math.RoundToEven(f))
			if got != want {
				t.Fatalf("Round(%d/%d) = %d, want %d", num, den, got, want)
			}
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		a    int64
		e    int
		want string
	}{{1234, 2, "12.34"}, {-5, 2, "-0.05"}, {1615, 0, "1615"}, {1, 3, "0.001"}, {math.MinInt64, 2, "-92233720368547758.08"}} {
		if got := Format(c.a, c.e); got != c.want {
			t.Errorf("Format(%d,%d) = %s, want %s", c.a, c.e, got, c.want)
		}
	}
}

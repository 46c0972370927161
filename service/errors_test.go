package service

import "testing"

func TestEveryCodeHasANumber(t *testing.T) {
	seen := map[int64]Code{}
	for _, c := range AllCodes {
		n, ok := numbers[c]
		if !ok {
			t.Errorf("code %s has no number", c)
		}
		if other, dup := seen[n]; dup {
			t.Errorf("codes %s and %s share %d", c, other, n)
		}
		seen[n] = c
	}
	if Code("bogus").Number() != -32603 {
		t.Error("unknown code must map to internal")
	}
}

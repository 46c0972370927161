package service

import (
	"encoding/json"
	"testing"
)

func TestBuildQuery(t *testing.T) {
	spec := ListSpec{Sort: []string{"id", "name", "created_at"}, Search: []string{"name", "email"}}
	limit, page := 10, 3
	lp := &ListParams{Limit: &limit, Page: &page, Order: Strings{"-name", "created_at"},
		FilterParams: FilterParams{Q: "Ac_me*", QF: Strings{"name"}}}
	type filt struct {
		Status Strings `filter:"status"`
		ID     IDs     `filter:"id"`
		None   IDs     `filter:"none"`
	}
	q, err := BuildQuery(spec, lp.FilterParams, lp, &filt{Status: Strings{"active"}, ID: IDs{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if q.Limit != 10 || q.Offset != 20 {
		t.Errorf("paging %d/%d", q.Limit, q.Offset)
	}
	if len(q.Order) != 3 || q.Order[0] != (Order{"name", true}) || q.Order[1] != (Order{"created_at", false}) || q.Order[2].Field != "id" {
		t.Errorf("order %+v", q.Order)
	}
	if q.Q != `ac\_me%` || len(q.QFields) != 1 {
		t.Errorf("q %q %v", q.Q, q.QFields)
	}
	if v, ok := q.Where("id"); !ok || len(v) != 2 {
		t.Errorf("filters %+v", q.Filters)
	}
	if _, ok := q.Where("none"); ok {
		t.Error("empty filter applied")
	}
}

func TestBuildQueryRefusesUnlistedFields(t *testing.T) {
	spec := ListSpec{Sort: []string{"id"}, Search: []string{"name"}}
	big, neg := 5000, -1
	lp := &ListParams{Limit: &big, Offset: &neg, Order: Strings{"password_hash"}, FilterParams: FilterParams{Q: "x", QF: Strings{"secret"}}}
	_, err := BuildQuery(spec, lp.FilterParams, lp, nil)
	e := AsError(err)
	for _, f := range []string{"limit", "offset", "order", "q_f"} {
		if e == nil || e.Fields[f] == "" {
			t.Errorf("%s not refused: %v", f, err)
		}
	}
}

func TestLikePattern(t *testing.T) {
	cases := map[string]string{"acme": "%acme%", "Acme*": "acme%", "*corp": "%corp", "a*b": "a%b", "100%": `%100\%%`, `a\b`: `%a\\b%`}
	for in, want := range cases {
		if got := likePattern(in); got != want {
			t.Errorf("likePattern(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListTypesAcceptOneOrMany(t *testing.T) {
	var ids IDs
	for js, n := range map[string]int{`5`: 1, `[1,2,3]`: 3, `"4,5"`: 2, `"7"`: 1} {
		if err := json.Unmarshal([]byte(js), &ids); err != nil || len(ids) != n {
			t.Errorf("IDs %s: %v %v", js, ids, err)
		}
	}
	for _, bad := range []string{`"x"`, `{}`, `[1,"a"]`, `1.5`} {
		if err := json.Unmarshal([]byte(bad), &ids); err == nil {
			t.Errorf("IDs accepted %s", bad)
		}
	}
	var ss Strings
	if err := json.Unmarshal([]byte(`"a, b"`), &ss); err != nil || len(ss) != 2 || ss[1] != "b" {
		t.Errorf("Strings: %v %v", ss, err)
	}
	p := NewPage([]int{1, 2, 3}, Query{Limit: 2})
	b, _ := json.Marshal(p)
	if string(b) != "[1,2]" || !p.More {
		t.Errorf("page %s more=%v", b, p.More)
	}
	b, _ = json.Marshal(NewPage([]int(nil), Query{Limit: 2}))
	if string(b) != "[]" {
		t.Errorf("empty page %s", b)
	}
}

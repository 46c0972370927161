package main

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// TestClientSearch covers every list convention on clients.search (and so on
// the one implementation every *.search shares): filters, sorts, q forms,
// paging, time ranges, REST lists and Link headers, refusals and SQL-looking input.
func TestClientSearch(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		a := keyAuth(adminKey)
		var rs idOnly
		s.ok(t, a, "resellers.create", map[string]any{"name": "search reseller"}, &rs)
		seed := []map[string]any{
			{"name": "Acme Corp", "email": "ops@acme.example", "company": "Acme", "status": "active", "currency": "USD", "credit": 300},
			{"name": "Acme Labs", "email": "labs@acme.example", "company": "100 Labs", "status": "suspended", "currency": "EUR", "credit": 100},
			{"name": "Globex", "email": "hq@globex.example", "phone": "+4930123456", "status": "active", "currency": "EUR", "credit": 200, "resellers_id": rs.ID},
			{"name": "Initech 100% Co", "tax_number": "DE_123", "status": "archived", "currency": "JPY", "credit": 0},
			{"name": "Umbrella", "email": "x@umbrella.example", "tax_number": "DEX123", "status": "active", "currency": "USD", "credit": 500, "resellers_id": rs.ID},
		}
		ids := map[string]int64{}
		for _, c := range seed {
			var v idOnly
			s.ok(t, a, "clients.create", c, &v)
			ids[c["name"].(string)] = v.ID
		}
		names := func(params map[string]any) []string {
			t.Helper()
			var rows []clientView
			s.ok(t, a, "clients.search", params, &rows)
			out := make([]string, len(rows))
			for i, r := range rows {
				out[i] = r.Name
			}
			return out
		}
		expect := func(params map[string]any, want ...string) {
			t.Helper()
			got := names(params)
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%v → %q, want %q", params, got, want)
			}
		}
		set := func(params map[string]any, want ...string) {
			t.Helper()
			got := names(params)
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%v → %q, want %q", params, got, want)
			}
		}
		// typed filters: one value or a list
		set(map[string]any{"status": "active"}, "Acme Corp", "Globex", "Umbrella")
		set(map[string]any{"status": []string{"suspended", "archived"}}, "Acme Labs", "Initech 100% Co")
		set(map[string]any{"currency": "EUR"}, "Acme Labs", "Globex")
		set(map[string]any{"resellers_id": rs.ID}, "Globex", "Umbrella")
		set(map[string]any{"id": []int64{ids["Globex"], ids["Umbrella"]}}, "Globex", "Umbrella")
		set(map[string]any{"email": "hq@globex.example"}, "Globex")
		set(map[string]any{"status": "active", "currency": "USD"}, "Acme Corp", "Umbrella")
		// sorts, both directions, several keys, o alias
		expect(map[string]any{"order": "name"}, "Acme Corp", "Acme Labs", "Globex", "Initech 100% Co", "Umbrella")
		expect(map[string]any{"order": "-name"}, "Umbrella", "Initech 100% Co", "Globex", "Acme Labs", "Acme Corp")
		expect(map[string]any{"order": []string{"-credit"}}, "Umbrella", "Acme Corp", "Globex", "Acme Labs", "Initech 100% Co")
		expect(map[string]any{"o": "status,-name"}, "Umbrella", "Globex", "Acme Corp", "Initech 100% Co", "Acme Labs")
		expect(map[string]any{"order": "-id", "limit": 2}, "Umbrella", "Initech 100% Co")
		// q: contains, prefix, suffix, inner wildcard, q_f, LIKE metacharacters are literal
		set(map[string]any{"q": "acme"}, "Acme Corp", "Acme Labs")
		set(map[string]any{"q": "acme*"}, "Acme Corp", "Acme Labs")
		set(map[string]any{"q": "*labs"}, "Acme Labs")
		set(map[string]any{"q": "a*e"}, "Acme Corp") // anchored: company "Acme"
		set(map[string]any{"q": "globex.example", "q_f": "email"}, "Globex")
		set(map[string]any{"q": "globex", "q_f": []string{"company"}})
		set(map[string]any{"q": "100%"}, "Initech 100% Co")
		set(map[string]any{"q": "de_123"}, "Initech 100% Co") // not DEX123: _ is literal
		set(map[string]any{"q": "+4930"}, "Globex")
		// SQL-looking input is data
		set(map[string]any{"q": "'; DROP TABLE clients; --"})
		set(map[string]any{"q": `" OR 1=1 --`})
		set(map[string]any{"email": "x' OR '1'='1"})
		set(map[string]any{"status": "active"}, "Acme Corp", "Globex", "Umbrella")
		// paging: offset, page (1-based), limit
		expect(map[string]any{"order": "name", "limit": 2, "offset": 2}, "Globex", "Initech 100% Co")
		expect(map[string]any{"order": "name", "limit": 2, "page": 3}, "Umbrella")
		// creation time range
		set(map[string]any{"start_at": "2000-01-01", "ends_at": "2999-01-01T00:00:00Z"}, "Acme Corp", "Acme Labs", "Globex", "Initech 100% Co", "Umbrella")
		set(map[string]any{"ends_at": "2000-01-01"})
		// count takes the same filters
		var n struct {
			Count int64 `json:"count"`
		}
		s.ok(t, a, "clients.count", map[string]any{"q": "acme*", "status": "active"}, &n)
		if n.Count != 1 {
			t.Errorf("count: %d", n.Count)
		}
		// refusals name the field
		for field, params := range map[string]map[string]any{
			"order":    {"order": "password"},
			"q_f":      {"q": "x", "q_f": "metadata"},
			"limit":    {"limit": 1001},
			"offset":   {"offset": -1},
			"page":     {"page": 0},
			"nickname": {"nickname": "x"},
			"status":   {"status": 5},
			"id":       {"id": "1; DROP TABLE clients"},
			"start_at": {"start_at": "last week"},
		} {
			r := s.rpc(t, a, "clients.search", params)
			if r.Err == nil || r.Err.Code != -32602 || r.Err.field(field) == "" {
				t.Errorf("%v: want -32602 naming %s, got %+v", params, field, r.Err)
			}
		}
		// REST: comma-separated and repeated list values, Link headers
		status, h, body := s.raw(t, a, "GET", "/clients?status=suspended,archived&order=name", "", nil)
		if status != 200 || !strings.Contains(string(body), "Acme Labs") || !strings.Contains(string(body), "Initech") {
			t.Errorf("comma list: %d %s", status, body)
		}
		_, _, body = s.raw(t, a, "GET", "/clients?status=suspended&status=archived", "", nil)
		var rows []clientView
		if json.Unmarshal(body, &rows) != nil || len(rows) != 2 {
			t.Errorf("repeated list: %s", body)
		}
		_, h, _ = s.raw(t, a, "GET", "/clients?order=name&limit=2&offset=2", "", nil)
		link := strings.Join(h.Values("Link"), ", ")
		if !strings.Contains(link, `rel="next"`) || !strings.Contains(link, `rel="prev"`) || !strings.Contains(link, "offset=4") {
			t.Errorf("Link: %q", link)
		}
		_, h, _ = s.raw(t, a, "GET", "/clients?order=name&limit=5", "", nil)
		if strings.Contains(h.Get("Link"), "next") {
			t.Errorf("Link on the last page: %q", h.Get("Link"))
		}
		status, _, body = s.raw(t, a, "GET", "/clients?order="+url.QueryEscape("name;DROP TABLE clients"), "", nil)
		if status != 400 || !strings.Contains(string(body), `"order"`) {
			t.Errorf("SQL in order: %d %s", status, body)
		}
		var all []clientView
		s.ok(t, a, "clients.search", map[string]any{"limit": 1000}, &all)
		if len(all) != len(seed) {
			t.Errorf("clients after hostile searches: %d", len(all))
		}
	})
}

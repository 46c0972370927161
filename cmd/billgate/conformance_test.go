package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// rpcReply is one element of a JSON-RPC response, with its id kept raw.
type rpcReply struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result"`
	Error   *rpcError       `json:"error"`
	ID      json.RawMessage `json:"id"`
}

func post(t *testing.T, s *server, body string) (int, []byte) {
	t.Helper()
	status, _, b := s.raw(t, keyAuth(adminKey), "POST", "/", "application/json", []byte(body))
	return status, b
}

func single(t *testing.T, s *server, body string) rpcReply {
	t.Helper()
	status, b := post(t, s, body)
	var r rpcReply
	if status != 200 || json.Unmarshal(b, &r) != nil || r.JSONRPC != "2.0" {
		t.Fatalf("%s → %d %s", body, status, b)
	}
	return r
}

func batch(t *testing.T, s *server, body string) []rpcReply {
	t.Helper()
	status, b := post(t, s, body)
	var rs []rpcReply
	if status != 200 || json.Unmarshal(b, &rs) != nil {
		t.Fatalf("%s → %d %s", body, status, b)
	}
	return rs
}

func wantErr(t *testing.T, r rpcReply, code int64, id string) {
	t.Helper()
	if r.Error == nil || r.Error.Code != code || string(r.ID) != id || r.Result != nil {
		t.Errorf("want error %d id %s, got %+v id %s result %s", code, id, r.Error, r.ID, r.Result)
	}
}

// TestJSONRPCConformance walks section 7 of the JSON-RPC 2.0 specification with
// real methods, plus the edge cases API.md names, against the real server.
func TestJSONRPCConformance(t *testing.T) {
	s := startServer(t, "sqlite://"+t.TempDir()+"/c.db", nil)

	// rpc call with named params
	r := single(t, s, `{"jsonrpc":"2.0","method":"iam.users.get","params":{"id":1},"id":3}`)
	if r.Error != nil || !strings.Contains(string(r.Result), `"login":"admin"`) || string(r.ID) != "3" {
		t.Errorf("named params: %+v %s", r.Error, r.Result)
	}
	// rpc call with positional params: by position is refused in this API
	wantErr(t, single(t, s, `{"jsonrpc":"2.0","method":"iam.users.get","params":[1],"id":1}`), -32602, "1")
	// a notification: no reply
	if status, b := post(t, s, `{"jsonrpc":"2.0","method":"system.version","params":{}}`); status != http.StatusNoContent || len(b) != 0 {
		t.Errorf("notification: %d %q", status, b)
	}
	if status, _ := post(t, s, `{"jsonrpc":"2.0","method":"no.such.method"}`); status != http.StatusNoContent {
		t.Errorf("notification of an unknown method: %d", status)
	}
	// non-existent method
	wantErr(t, single(t, s, `{"jsonrpc":"2.0","method":"foobar","id":"1"}`), -32601, `"1"`)
	// invalid JSON
	wantErr(t, single(t, s, `{"jsonrpc":"2.0","method":"foobar,"params":"bar","baz]`), -32700, "null")
	// invalid Request object
	wantErr(t, single(t, s, `{"jsonrpc":"2.0","method":1,"params":"bar"}`), -32600, "null")
	// batch, invalid JSON
	wantErr(t, single(t, s, `[{"jsonrpc":"2.0","method":"system.version","id":"1"},{"jsonrpc":"2.0","method"]`), -32700, "null")
	// empty Array
	wantErr(t, single(t, s, `[]`), -32600, "null")
	// an invalid Batch (but not empty)
	rs := batch(t, s, `[1]`)
	if len(rs) != 1 {
		t.Fatalf("[1]: %d replies", len(rs))
	}
	wantErr(t, rs[0], -32600, "null")
	// invalid Batch
	rs = batch(t, s, `[1,2,3]`)
	if len(rs) != 3 {
		t.Fatalf("[1,2,3]: %d replies", len(rs))
	}
	for _, r := range rs {
		wantErr(t, r, -32600, "null")
	}
	// rpc call Batch: replies in request order, notifications left out
	rs = batch(t, s, `[
		{"jsonrpc":"2.0","method":"system.version","id":"1"},
		{"jsonrpc":"2.0","method":"system.version","params":{}},
		{"jsonrpc":"2.0","method":"iam.users.get","params":{"id":1},"id":"2"},
		{"foo":"boo"},
		{"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},
		{"jsonrpc":"2.0","method":"iam.users.count","id":"9"}
	]`)
	if len(rs) != 5 {
		t.Fatalf("batch: %d replies", len(rs))
	}
	if string(rs[0].ID) != `"1"` || rs[0].Error != nil || string(rs[1].ID) != `"2"` || rs[1].Error != nil {
		t.Errorf("batch successes: %+v %+v", rs[0], rs[1])
	}
	wantErr(t, rs[2], -32600, "null")
	wantErr(t, rs[3], -32601, `"5"`)
	if string(rs[4].ID) != `"9"` || !strings.Contains(string(rs[4].Result), `"count"`) {
		t.Errorf("batch count: %+v %s", rs[4].Error, rs[4].Result)
	}
	// rpc call Batch (all notifications)
	if status, b := post(t, s, `[{"jsonrpc":"2.0","method":"system.version","params":{}},{"jsonrpc":"2.0","method":"iam.users.count"}]`); status != 204 || len(b) != 0 {
		t.Errorf("all-notification batch: %d %q", status, b)
	}

	// ids are echoed exactly
	for _, id := range []string{`-7`, `12345678901234567890123`, `"abc"`, `""`, `null`, `1.5`, `0`} {
		r := single(t, s, fmt.Sprintf(`{"jsonrpc":"2.0","method":"system.version","id":%s}`, id))
		if string(r.ID) != id || r.Error != nil {
			t.Errorf("id %s echoed as %s (%+v)", id, r.ID, r.Error)
		}
	}
	// jsonrpc must be exactly "2.0"
	for _, v := range []string{`"1.0"`, `2.0`, `"2"`, `null`} {
		wantErr(t, single(t, s, fmt.Sprintf(`{"jsonrpc":%s,"method":"system.version","id":1}`, v)), -32600, "1")
	}
	wantErr(t, single(t, s, `{"method":"system.version","id":1}`), -32600, "1")
	// params must be structured; by-position is -32602 here
	for _, p := range []string{`"bar"`, `1`, `true`} {
		wantErr(t, single(t, s, fmt.Sprintf(`{"jsonrpc":"2.0","method":"system.version","params":%s,"id":1}`, p)), -32600, "1")
	}
	// rpc.* is reserved
	wantErr(t, single(t, s, `{"jsonrpc":"2.0","method":"rpc.foo","id":1}`), -32601, "1")
	// an invalid id type is an invalid request
	wantErr(t, single(t, s, `{"jsonrpc":"2.0","method":"system.version","id":{"a":1}}`), -32600, "null")
}

// TestBadInput: malformed or hostile input gets the right error naming the
// problem, never a 500.
func TestBadInput(t *testing.T) {
	s := startServer(t, "sqlite://"+t.TempDir()+"/b.db", map[string]string{"BILLGATE_MAX_BATCH": "50"})
	a := keyAuth(adminKey)
	check := func(name string, status int, body []byte, wantStatus int, wantIn string) {
		t.Helper()
		if status != wantStatus || !strings.Contains(string(body), wantIn) {
			t.Errorf("%s: %d %s (want %d with %q)", name, status, body, wantStatus, wantIn)
		}
	}
	st, _, b := s.raw(t, a, "POST", "/", "", []byte(`{"jsonrpc":"2.0","id":1,"method":"iam.users.get","params":{"id":"one"}}`))
	check("wrong type", st, b, 200, `"id":"must be an integer"`)
	st, _, b = s.raw(t, a, "POST", "/", "", []byte(`{"jsonrpc":"2.0","id":1,"method":"iam.users.get","params":{"id":1,"colour":"red"}}`))
	check("unknown field", st, b, 200, `"colour":"unknown parameter"`)
	st, _, b = s.raw(t, a, "GET", "/iam/users/abc", "", nil)
	check("REST wrong type", st, b, 400, `"id":"must be an integer"`)
	st, _, b = s.raw(t, a, "POST", "/iam/users", "application/json", []byte(`{"login":`))
	check("REST malformed", st, b, 400, `parse_error`)
	st, _, b = s.raw(t, a, "GET", "/iam/users?__tz=Mars/Base", "", nil)
	check("REST unknown tz", st, b, 400, `__tz`)
	st, _, b = s.raw(t, a, "POST", "/", "", []byte(`{"jsonrpc":"2.0","id":1,"method":"iam.users.search","params":{"__tz":"Nowhere/Land"}}`))
	check("RPC unknown tz", st, b, 200, `-32602`)
	big := bytes.Repeat([]byte("x"), 6<<20)
	st, _, b = s.raw(t, a, "POST", "/", "", append(append([]byte(`{"jsonrpc":"2.0","id":1,"method":"system.version","params":{"a":"`), big...), `"}}`...))
	check("RPC oversized", st, b, 413, `-32008`)
	st, _, b = s.raw(t, a, "POST", "/iam/users", "application/json", append(append([]byte(`{"login":"`), big...), `"}`...))
	check("REST oversized", st, b, 413, `too_large`)
	var many []string
	for i := 0; i < 51; i++ {
		many = append(many, `{"jsonrpc":"2.0","id":1,"method":"system.version"}`)
	}
	st, _, b = s.raw(t, a, "POST", "/", "", []byte("["+strings.Join(many, ",")+"]"))
	check("huge batch", st, b, 200, `batch too large`)
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	st, _, b = s.raw(t, a, "POST", "/", "", []byte(`{"jsonrpc":"2.0","id":1,"method":"iam.users.search","params":{"q":`+deep+`}}`))
	check("deep nesting", st, b, 200, `-32`)
	st, _, b = s.raw(t, a, "POST", "/", "", []byte("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"iam.users.search\",\"params\":{\"q\":\"\xff\xfe\"}}"))
	if st >= 500 {
		t.Errorf("invalid UTF-8: %d %s", st, b)
	}
	st, _, b = s.raw(t, a, "POST", "/", "", []byte(`{"jsonrpc":"2.0","id":1,"method":"iam.users.get","params":{"id":1e400}}`))
	check("huge number", st, b, 200, `"id":"must be an integer"`)
	st, _, b = s.raw(t, a, "GET", "/no/such/route", "", nil)
	check("unknown route", st, b, 404, `"error"`)
}

// TestTimezones: __tz renders datetimes in the zone on both protocols; the
// user's timezone is the default; zone-less input is read in the zone.
func TestTimezones(t *testing.T) {
	s := startServer(t, "sqlite://"+t.TempDir()+"/tz.db", nil)
	a := keyAuth(adminKey)
	var u struct {
		CreatedAt string `json:"created_at"`
	}
	s.ok(t, a, "iam.users.get", map[string]any{"id": 1, "__tz": "Asia/Kolkata"}, &u)
	if !strings.HasSuffix(u.CreatedAt, "+05:30") {
		t.Errorf("__tz over JSON-RPC: %s", u.CreatedAt)
	}
	_, _, b := s.raw(t, a, "GET", "/iam/users/1?__tz=Asia/Kathmandu", "", nil)
	if !strings.Contains(string(b), "+05:45") {
		t.Errorf("__tz over REST: %s", b)
	}
	s.ok(t, a, "iam.users.update", map[string]any{"id": 1, "timezone": "Asia/Tokyo"}, nil)
	s.ok(t, a, "iam.users.get", map[string]any{"id": 1}, &u)
	if !strings.HasSuffix(u.CreatedAt, "+09:00") {
		t.Errorf("user zone default: %s", u.CreatedAt)
	}
	// A zone-less start_at is read in the call's zone: a user created now is
	// inside [today 00:00 in the zone furthest ahead, …) read as UTC+14.
	var n struct {
		Count int64 `json:"count"`
	}
	s.ok(t, a, "iam.users.count", map[string]any{"start_at": "2000-01-01", "__tz": "Pacific/Kiritimati"}, &n)
	if n.Count < 1 {
		t.Errorf("count since 2000: %d", n.Count)
	}
	s.ok(t, a, "iam.users.count", map[string]any{"ends_at": "2000-01-01 00:00:00", "__tz": "UTC"}, &n)
	if n.Count != 0 {
		t.Errorf("count before 2000: %d", n.Count)
	}
}

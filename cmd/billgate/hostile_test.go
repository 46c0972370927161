package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// This file extends TestBadInput (conformance_test.go) with the hostile input
// of issue 4 on both protocols: deeply nested JSON, huge numbers, invalid
// UTF-8, duplicate keys and 10 MB strings. Every case must get a clean error:
// a 4xx in the API's error shape over REST, a JSON-RPC error object (HTTP 200,
// or the transport's 4xx) over JSON-RPC — never a 5xx, never a hang.

// hostileReply is the outcome of one hostile request.
type hostileReply struct {
	status int
	body   []byte
	code   string // data.code of the error ("" when none)
	rpc    int64  // the JSON-RPC error code (0 when none)
}

// send posts (or gets) body with the admin key, bounded by a client timeout.
func send(t *testing.T, s *server, method, path, contentType string, body io.Reader, length int64) hostileReply {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-Api-Key", adminKey)
	resp, err := timeoutClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := hostileReply{status: resp.StatusCode, body: b}
	var env struct {
		Error *rpcError `json:"error"`
	}
	if json.Unmarshal(b, &env) == nil && env.Error != nil {
		r.code, r.rpc = env.Error.dataCode(), env.Error.Code
	}
	return r
}

// timeoutClient bounds every request of the hostile and fault-tolerance tests.
var timeoutClient = &http.Client{Timeout: 10 * time.Second}

func (r hostileReply) String() string {
	b := r.body
	if len(b) > 300 {
		b = append(b[:300:300], "…"...)
	}
	return fmt.Sprintf("%d %s", r.status, b)
}

// wantREST checks a REST reply: the status and one of the data codes.
func wantREST(t *testing.T, name string, r hostileReply, status int, codes ...string) {
	t.Helper()
	if r.status != status || !contains(codes, r.code) {
		t.Errorf("REST %s: %s (want %d with a code in %v)", name, r, status, codes)
	}
}

// wantRPC checks a JSON-RPC reply: HTTP status and one of the data codes.
func wantRPC(t *testing.T, name string, r hostileReply, status int, codes ...string) {
	t.Helper()
	if r.status != status || !contains(codes, r.code) || r.rpc >= 0 {
		t.Errorf("JSON-RPC %s: %s (want %d with a code in %v)", name, r, status, codes)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsonBody(s string) (io.Reader, int64) { return strings.NewReader(s), int64(len(s)) }

func rpcBody(method, params string) string {
	return `{"jsonrpc":"2.0","id":7,"method":"` + method + `","params":` + params + `}`
}

// TestHostileInput runs the cases on each database (the store must not turn
// any of them into a driver error).
func TestHostileInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		var c idOnly
		s.ok(t, keyAuth(adminKey), "clients.create", map[string]any{"name": uniq("hostile"), "currency": "USD"}, &c)
		t.Run("nesting", func(t *testing.T) { hostileNesting(t, s, c.ID) })
		t.Run("numbers", func(t *testing.T) { hostileNumbers(t, s, c.ID) })
		t.Run("utf8", func(t *testing.T) { hostileUTF8(t, s, c.ID) })
		t.Run("duplicates", func(t *testing.T) { hostileDuplicates(t, s, c.ID) })
		t.Run("large", func(t *testing.T) { hostileLarge(t, s) })
		t.Run("lists", func(t *testing.T) { hostileLists(t, s) })
		t.Run("dates", func(t *testing.T) { hostileDates(t, s) })
	})
}

func hostileNesting(t *testing.T, s *server, client int64) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }

	// Past encoding/json's depth limit (10000): not JSON at all.
	r := send(t, s, "POST", "/", "", strings.NewReader(deep(200000)), -1)
	wantRPC(t, "deep body", r, 200, "parse_error")
	b, n := jsonBody(`[` + rpcBody("system.version", deepObj(50000)) + `]`)
	wantRPC(t, "deep batch element", send(t, s, "POST", "/", "", b, n), 200, "parse_error")
	b, n = jsonBody(`{"name":` + deepObj(50000) + `}`)
	wantREST(t, "deep body", send(t, s, "POST", "/clients", "application/json", b, n), 400, "parse_error")
	b, n = jsonBody(deep(200000))
	wantREST(t, "deep array body", send(t, s, "POST", "/clients", "application/json", b, n), 400, "parse_error")

	// Deep but valid JSON where a scalar is expected.
	b, n = jsonBody(rpcBody("clients.create", `{"name":`+deepObj(5000)+`}`))
	wantRPC(t, "deep param", send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
	b, n = jsonBody(`{"jsonrpc":"2.0","method":"system.version","id":` + deep(5000) + `}`)
	wantRPC(t, "deep id", send(t, s, "POST", "/", "", b, n), 200, "invalid_request")
	b, n = jsonBody(`{"name":"x","credit":` + deepObj(5000) + `}`)
	wantREST(t, "deep param", send(t, s, "POST", "/clients", "application/json", b, n), 400, "invalid_params")
	r = send(t, s, "GET", "/clients?id="+strings.Repeat("%5B", 5000), "", nil, 0)
	wantREST(t, "deep query value", r, 400, "invalid_params")

	// Deep metadata (an object kept as JSON by the store) within the 16 KiB
	// bound: the databases' JSON checks have depth limits of their own.
	meta := `{"m":` + deep(7000) + `}`
	b, n = jsonBody(rpcBody("clients.update", fmt.Sprintf(`{"id":%d,"metadata":%s}`, client, meta)))
	wantRPC(t, "deep metadata", send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
	b, n = jsonBody(fmt.Sprintf(`{"metadata":%s}`, meta))
	wantREST(t, "deep metadata", send(t, s, "PATCH", fmt.Sprintf("/clients/%d", client), "application/json", b, n), 400, "invalid_params")
	b, n = jsonBody(fmt.Sprintf(`{"metadata":{"m":%s}}`, deep(31)))
	if r := send(t, s, "PATCH", fmt.Sprintf("/clients/%d", client), "application/json", b, n); r.status != 200 {
		t.Errorf("REST metadata 32 levels deep: %s", r)
	}
}

func hostileNumbers(t *testing.T, s *server, client int64) {
	huge := strings.Repeat("9", 1<<20) // a million digits
	for _, num := range []string{"1e400", "-1e400", "99999999999999999999", "9223372036854775808", "1.5", "1e2", "-0.0e-400", huge} {
		b, n := jsonBody(rpcBody("clients.get", `{"id":`+num+`}`))
		wantRPC(t, "id "+num[:min(len(num), 20)], send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
		b, n = jsonBody(rpcBody("accounting.transactions.create", fmt.Sprintf(`{"clients_id":%d,"amount":%s,"type":"adjustment"}`, client, num)))
		wantRPC(t, "amount "+num[:min(len(num), 20)], send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
		b, n = jsonBody(fmt.Sprintf(`{"clients_id":%d,"amount":%s,"type":"adjustment"}`, client, num))
		wantREST(t, "amount "+num[:min(len(num), 20)], send(t, s, "POST", "/accounting/transactions", "application/json", b, n), 400, "invalid_params")
		wantRPC(t, "limit "+num[:min(len(num), 20)], send(t, s, "POST", "/", "", strings.NewReader(rpcBody("clients.search", `{"limit":`+num+`}`)), -1), 200, "invalid_params")
	}
	for _, q := range []string{"/clients/99999999999999999999", "/clients?limit=99999999999999999999", "/clients?offset=-99999999999999999999",
		"/clients?page=1e400", "/clients/1e3", "/clients?id=" + huge[:4000]} {
		wantREST(t, q[:min(len(q), 50)], send(t, s, "GET", q, "", nil, 0), 400, "invalid_params")
	}
	// The extremes of int64 are numbers, but not amounts a balance can take.
	b, n := jsonBody(rpcBody("accounting.transactions.create", fmt.Sprintf(`{"clients_id":%d,"amount":-9223372036854775808,"type":"adjustment"}`, client)))
	wantRPC(t, "amount MinInt64", send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
	max := rpcBody("accounting.transactions.create", fmt.Sprintf(`{"clients_id":%d,"amount":9223372036854775807,"type":"adjustment"}`, client))
	first := send(t, s, "POST", "/", "", strings.NewReader(max), -1)
	second := send(t, s, "POST", "/", "", strings.NewReader(max), -1)
	if first.code != "" && first.code != "unprocessable" {
		t.Errorf("amount MaxInt64: %s", first)
	}
	wantRPC(t, "balance overflow", second, 200, "unprocessable")
	var cl struct {
		Balance int64 `json:"balance"`
	}
	s.ok(t, keyAuth(adminKey), "clients.get", map[string]any{"id": client}, &cl)
	var sum struct {
		Count int64 `json:"count"`
	}
	s.ok(t, keyAuth(adminKey), "accounting.transactions.count", map[string]any{"clients_id": client}, &sum)
	if sum.Count > 1 {
		t.Errorf("the overflowing movement was recorded: %d movements, balance %d", sum.Count, cl.Balance)
	}
}

func hostileUTF8(t *testing.T, s *server, client int64) {
	// The JSON-RPC body is checked as a whole.
	b, n := jsonBody("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"clients.\xff\",\"params\":{}}")
	wantRPC(t, "method", send(t, s, "POST", "/", "", b, n), 200, "parse_error")
	b, n = jsonBody(rpcBody("clients.create", "{\"name\":\"bad \xc3\x28 name\"}"))
	wantRPC(t, "param", send(t, s, "POST", "/", "", b, n), 200, "parse_error")
	// REST: in a JSON body, a form body, the query and the path.
	b, n = jsonBody("{\"name\":\"bad \xed\xa0\x80 surrogate\"}")
	wantREST(t, "JSON body", send(t, s, "POST", "/clients", "application/json", b, n), 400, "parse_error")
	b, n = jsonBody("name=bad%FFname")
	wantREST(t, "form body", send(t, s, "POST", "/clients", "application/x-www-form-urlencoded", b, n), 400, "invalid_params")
	wantREST(t, "query", send(t, s, "GET", "/clients?q=%C3%28", "", nil, 0), 400, "invalid_params")
	wantREST(t, "path", send(t, s, "GET", "/accounting/currencies/%FF%FE%FD", "", nil, 0), 400, "invalid_params")
	// Nothing was stored with replacement characters.
	var found []clientView
	s.ok(t, keyAuth(adminKey), "clients.search", map[string]any{"q": "bad"}, &found)
	for _, c := range found {
		if strings.ContainsRune(c.Name, '\uFFFD') {
			t.Errorf("stored a mangled name: %q", c.Name)
		}
	}
	// Escaped lone surrogates are valid JSON: they are read as U+FFFD, as the
	// JSON specification allows; that is not an error.
	b, n = jsonBody(rpcBody("clients.get", `{"id":1,"__tz":"\ud800"}`))
	wantRPC(t, "escaped surrogate __tz", send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
}

func hostileDuplicates(t *testing.T, s *server, client int64) {
	b, n := jsonBody(`{"jsonrpc":"2.0","id":1,"method":"clients.get","method":"clients.delete","params":{"id":1}}`)
	wantRPC(t, "envelope", send(t, s, "POST", "/", "", b, n), 200, "invalid_request")
	b, n = jsonBody(rpcBody("clients.get", fmt.Sprintf(`{"id":%d,"id":%d}`, client, client+1)))
	wantRPC(t, "params", send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
	b, n = jsonBody(`{"name":"first","name":"second","currency":"USD"}`)
	r := send(t, s, "POST", "/clients", "application/json", b, n)
	wantREST(t, "body", r, 400, "invalid_params")
	if !strings.Contains(string(r.body), "duplicate") || !strings.Contains(string(r.body), `"name"`) {
		t.Errorf("REST duplicate key not named: %s", r)
	}
	b, n = jsonBody(`{"credit":1,"status":"active","credit":2}`)
	wantREST(t, "PATCH body", send(t, s, "PATCH", fmt.Sprintf("/clients/%d", client), "application/json", b, n), 400, "invalid_params")
	// Nested duplicates are data, not parameters: the last wins, as in Go.
	b, n = jsonBody(rpcBody("clients.update", fmt.Sprintf(`{"id":%d,"metadata":{"k":1,"k":2}}`, client)))
	if r := send(t, s, "POST", "/", "", b, n); r.status != 200 || r.code != "" || !strings.Contains(string(r.body), `"k":2`) {
		t.Errorf("nested duplicate: %s", r)
	}
}

func hostileLarge(t *testing.T, s *server) {
	ten := strings.Repeat("x", 10<<20)
	for _, chunked := range []bool{false, true} {
		length := func(body string) int64 {
			if chunked {
				return -1 // no Content-Length: the limit is found while reading
			}
			return int64(len(body))
		}
		name := fmt.Sprintf("10 MB body (chunked %v)", chunked)
		body := rpcBody("clients.create", `{"name":"`+ten+`"}`)
		wantRPC(t, name, send(t, s, "POST", "/", "", strings.NewReader(body), length(body)), 413, "too_large")
		body = `{"name":"` + ten + `"}`
		wantREST(t, name, send(t, s, "POST", "/clients", "application/json", strings.NewReader(body), length(body)), 413, "too_large")
		body = "name=" + ten
		wantREST(t, "form "+name, send(t, s, "POST", "/clients", "application/x-www-form-urlencoded", strings.NewReader(body), length(body)), 413, "too_large")
	}
	// 10 MB in the URL or a header: refused by the HTTP server (431).
	rawRefused(t, s, "GET /clients?q="+ten+" HTTP/1.1\r\nHost: x\r\n\r\n")
	rawRefused(t, s, "POST / HTTP/1.1\r\nHost: x\r\nX-Api-Key: "+ten+"\r\nContent-Length: 2\r\n\r\n{}")
	// Under the body limit, a 4 MB string is a field error, not a row.
	four := strings.Repeat("y", 4<<20)
	b, n := jsonBody(rpcBody("clients.create", `{"name":"`+four+`"}`))
	wantRPC(t, "4 MB name", send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
	b, n = jsonBody(`{"name":"` + four + `"}`)
	wantREST(t, "4 MB name", send(t, s, "POST", "/clients", "application/json", b, n), 400, "invalid_params")
	b, n = jsonBody(rpcBody("clients.search", `{"q":"`+four+`"}`))
	wantRPC(t, "4 MB q", send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
	b, n = jsonBody(rpcBody("system.version", `{}`) + strings.Repeat(" ", 4<<20))
	if r := send(t, s, "POST", "/", "", b, n); r.status != 200 || r.code != "" {
		t.Errorf("4 MB of trailing space: %s", r)
	}
}

// rawRefused writes an oversized request head on a raw connection (while
// reading, since the server answers before the head is complete) and wants
// 431, or the connection closed by the server: never a timeout, never a 5xx.
func rawRefused(t *testing.T, s *server, req string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go func() { _, _ = io.WriteString(conn, req) }()
	line, err := bufio.NewReader(conn).ReadString('\n')
	var ne net.Error
	switch {
	case err == nil && !strings.HasPrefix(line, "HTTP/1.1 431 "):
		t.Errorf("oversized head of %d bytes: %q", len(req), line)
	case err != nil && errors.As(err, &ne) && ne.Timeout():
		t.Errorf("oversized head of %d bytes: no answer: %v", len(req), err)
	}
}

// hostileLists: list params that would blow up the SQL (ORDER BY with a
// hundred thousand keys, IN lists past the drivers' parameter limits).
func hostileLists(t *testing.T, s *server) {
	order := strings.Repeat("id,", 200000) + "id"
	b, n := jsonBody(rpcBody("clients.search", `{"order":"`+order+`"}`))
	if r := send(t, s, "POST", "/", "", b, n); r.status != 200 || r.code != "" {
		t.Errorf("JSON-RPC 200000 order keys: %s", r)
	}
	if r := send(t, s, "GET", "/clients?order="+strings.Repeat("-name,", 50000)+"id", "", nil, 0); r.status != 431 && r.status != 200 {
		t.Errorf("REST 50000 order keys: %s", r)
	}
	b, n = jsonBody(`{"order":"` + order + `","q":"x","q_f":"` + strings.Repeat("name,", 100000) + `name"}`)
	if r := send(t, s, "GET", "/clients", "application/json", b, n); r.status != 200 {
		t.Errorf("REST 200000 order keys in a body: %s", r)
	}
	ids := make([]string, 100000)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	b, n = jsonBody(rpcBody("clients.search", `{"id":[`+strings.Join(ids, ",")+`]}`))
	r := send(t, s, "POST", "/", "", b, n)
	wantRPC(t, "100000 ids", r, 200, "invalid_params")
	if !strings.Contains(string(r.body), `"id"`) {
		t.Errorf("100000 ids: the field is not named: %s", r)
	}
	b, n = jsonBody(`{"email":[` + strings.Repeat(`"a@b.c",`, 70000) + `"a@b.c"]}`)
	wantREST(t, "70000 emails", send(t, s, "GET", "/clients", "application/json", b, n), 400, "invalid_params")
	b, n = jsonBody(rpcBody("clients.count", `{"id":[`+strings.Join(ids[:1000], ",")+`]}`))
	if r := send(t, s, "POST", "/", "", b, n); r.status != 200 || r.code != "" {
		t.Errorf("1000 ids: %s", r)
	}
}

// hostileDates: datetimes at the ends of the calendar must not be stored when
// they could not be rendered back (JSON has years 0000–9999 only).
func hostileDates(t *testing.T, s *server) {
	a := keyAuth(adminKey)
	for _, d := range []string{"0000-01-01T00:00:00+14:00", "9999-12-31T23:00:00-12:00", "0001-01-01 00:00:00"} {
		b, n := jsonBody(rpcBody("accounting.currencies.rates.create", `{"from":"EUR","to":"USD","rate":"1.1","effective_from":"`+d+`","__tz":"Pacific/Kiritimati"}`))
		wantRPC(t, "effective_from "+d, send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
		b, n = jsonBody(rpcBody("clients.search", `{"start_at":"`+d+`","__tz":"Etc/GMT+12"}`))
		wantRPC(t, "start_at "+d, send(t, s, "POST", "/", "", b, n), 200, "invalid_params")
	}
	// Whatever was accepted can be listed in any zone.
	for _, zone := range []string{"Pacific/Kiritimati", "Etc/GMT+12"} {
		if r := s.rpc(t, a, "accounting.currencies.rates.search", map[string]any{"limit": 1000, "__tz": zone}); r.Err != nil {
			t.Errorf("rates in %s: %+v", zone, r.Err)
		}
	}
}

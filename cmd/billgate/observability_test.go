package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// scrape reads GET /metrics into a map from series ("name{labels}" as
// exposed, labels sorted by name) to value.
func scrape(t *testing.T, s *server) map[string]float64 {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMetrics: GET /metrics counts calls by method, protocol and code on both
// protocols, times them, records batch sizes, JWT use per user, HTTP statuses
// (including requests refused before any method runs) and the pool stats.
func TestMetrics(t *testing.T) {
	s := startServer(t, "sqlite://"+filepath.Join(t.TempDir(), "m.db"), nil)
	a := keyAuth(adminKey)

	if st, _, b := s.raw(t, a, "GET", "/iam/users/1", "", nil); st != 200 {
		t.Fatalf("GET /iam/users/1: %d %s", st, b)
	}
	if st, _, _ := s.raw(t, a, "GET", "/iam/users/999999", "", nil); st != 404 {
		t.Fatalf("GET /iam/users/999999: %d", st)
	}
	if r := s.rpc(t, a, "iam.users.get", map[string]any{"id": 999999}); r.Err.dataCode() != "not_found" {
		t.Fatalf("iam.users.get 999999: %+v", r.Err)
	}
	rs := batch(t, s, `[{"jsonrpc":"2.0","id":1,"method":"system.version"},{"jsonrpc":"2.0","id":2,"method":"system.version"},{"jsonrpc":"2.0","id":3,"method":"iam.users.get","params":{"id":1}}]`)
	if len(rs) != 3 {
		t.Fatalf("batch: %d replies", len(rs))
	}
	// An unknown method never becomes a label value.
	if r := s.rpc(t, a, "no.such.method", map[string]any{}); r.Err.dataCode() != "method_not_found" {
		t.Fatalf("unknown method: %+v", r.Err)
	}
	// A JWT session: two calls with the token.
	var tok struct {
		Token string `json:"token"`
	}
	s.ok(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": "admin", "password": adminPassword}, &tok)
	s.ok(t, auth{bearer: tok.Token}, "iam.users.get", map[string]any{"id": 1}, nil)
	if st, _, b := s.raw(t, auth{bearer: tok.Token}, "GET", "/iam/users/1", "", nil); st != 200 {
		t.Fatalf("REST with JWT: %d %s", st, b)
	}
	// Refused by the JSON-RPC transport before any method runs.
	if st, _, _ := s.raw(t, keyAuth("live_notAValidKey0123456789"), "POST", "/", "", []byte(`{"jsonrpc":"2.0","id":1,"method":"system.version"}`)); st != 401 {
		t.Fatalf("bad key: %d", st)
	}

	m := scrape(t, s)
	want := map[string]float64{
		`billgate_calls_total{code="ok",method="iam.users.get",protocol="rest"}`:                 2,
		`billgate_calls_total{code="not_found",method="iam.users.get",protocol="rest"}`:          1,
		`billgate_calls_total{code="not_found",method="iam.users.get",protocol="jsonrpc"}`:       1,
		`billgate_calls_total{code="ok",method="iam.users.get",protocol="jsonrpc"}`:              2,
		`billgate_calls_total{code="ok",method="system.version",protocol="jsonrpc"}`:             2,
		`billgate_calls_total{code="ok",method="iam.auth.jwt.authenticate",protocol="jsonrpc"}`:  1,
		`billgate_call_duration_seconds_count{code="ok",method="iam.users.get",protocol="rest"}`: 2,
		`billgate_jsonrpc_batch_size_count`:                                                      1,
		`billgate_jsonrpc_batch_size_sum`:                                                        3,
		`billgate_jwt_calls_total{user_id="1"}`:                                                  2,
		`billgate_http_requests_total{status="401"}`:                                             1,
		`billgate_http_requests_total{status="404"}`:                                             1,
		`billgate_db_max_open_connections{dialect="sqlite"}`:                                     9,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	for _, k := range []string{`billgate_db_open_connections{dialect="sqlite"}`, `billgate_http_requests_in_flight`,
		`go_goroutines`, `billgate_call_duration_seconds_bucket{code="ok",method="system.version",protocol="jsonrpc",le="+Inf"}`} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	for k := range m {
		if strings.Contains(k, "no.such.method") {
			t.Errorf("unknown method became a label: %s", k)
		}
	}
}

// logLine is one JSON line of the server's log.
type logLine map[string]any

func (l logLine) str(k string) string { s, _ := l[k].(string); return s }

// logLines parses the JSON lines of out (other lines, such as the first-start
// banner, are skipped).
func logLines(t *testing.T, out string) []logLine {
	t.Helper()
	var lines []logLine
	for _, raw := range strings.Split(out, "\n") {
		if !strings.HasPrefix(raw, "{") {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line is not JSON: %q", raw)
		}
		lines = append(lines, l)
	}
	return lines
}

// TestLogsCarryRequestIDsAndNoSecrets boots the server at log level debug,
// logs in with a password, uses the JWT, creates API keys (the secret is
// shown once), changes a password and makes failing calls with wrong
// credentials; then every secret involved is searched for in the whole log
// output. It also checks the one line per call: request id (the client's
// X-Request-Id, or a generated one, echoed back), method, protocol, user,
// duration and code.
func TestLogsCarryRequestIDsAndNoSecrets(t *testing.T) {
	s := startServer(t, "sqlite://"+filepath.Join(t.TempDir(), "log.db"), map[string]string{"BILLGATE_LOG_LEVEL": "debug"})
	a := keyAuth(adminKey)
	secrets := map[string]string{"admin key": adminKey, "admin password": adminPassword, "JWT secret": jwtSecret}

	// A user with a password, a JWT from it, and a refreshed JWT.
	const userPW, userPW2, wrongPW = "user-secret-pw-4711", "user-secret-pw-0815", "wrong-secret-pw-1234"
	secrets["user password"], secrets["changed password"], secrets["wrong password"] = userPW, userPW2, wrongPW
	login := uniq("logger")
	var u idOnly
	s.ok(t, a, "iam.users.create", map[string]any{"login": login, "password": userPW}, &u)
	var tok struct {
		Token string `json:"token"`
	}
	s.ok(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": login, "password": userPW}, &tok)
	secrets["JWT"] = tok.Token
	var tok2 struct {
		Token string `json:"token"`
	}
	s.ok(t, auth{bearer: tok.Token}, "iam.auth.jwt.refresh", map[string]any{}, &tok2)
	secrets["refreshed JWT"] = tok2.Token
	if st, _, b := s.raw(t, auth{bearer: tok2.Token}, "GET", fmt.Sprintf("/iam/users/%d", u.ID), "", nil); st != 200 {
		t.Fatalf("GET with JWT: %d %s", st, b)
	}
	s.ok(t, a, "iam.users.update", map[string]any{"id": u.ID, "password": userPW2}, nil)

	// API keys: the secret is in the create reply only.
	var live, test keyReply
	s.ok(t, a, "iam.api_keys.create", map[string]any{"users_id": u.ID, "mode": "live"}, &live)
	st, _, b := s.raw(t, a, "POST", "/iam/api-keys", "application/json", []byte(fmt.Sprintf(`{"users_id":%d,"mode":"test"}`, u.ID)))
	if st != 201 || json.Unmarshal(b, &test) != nil || !strings.HasPrefix(test.Key, "test_") {
		t.Fatalf("REST key create: %d %s", st, b)
	}
	secrets["live key"], secrets["test key"] = live.Key, test.Key
	s.ok(t, keyAuth(live.Key), "iam.users.get", map[string]any{"id": u.ID}, nil)
	if shown := string(s.rpc(t, a, "iam.api_keys.search", map[string]any{"users_id": u.ID}).Result); !strings.Contains(shown, `"prefix"`) ||
		strings.Contains(shown, live.Key) || strings.Contains(shown, test.Key) || strings.Contains(shown, `"key"`) {
		t.Errorf("api key secret shown again (or no keys listed): %s", shown)
	}

	// Failing calls with secrets in them.
	if r := s.rpc(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": login, "password": wrongPW}); r.Err.dataCode() != "unauthenticated" {
		t.Errorf("wrong password: %+v", r.Err)
	}
	const badKey = "live_notARealKeyButSecretLooking42"
	secrets["presented bad key"] = badKey
	if st, _, _ := s.raw(t, keyAuth(badKey), "GET", "/iam/users/1", "", nil); st != 401 {
		t.Errorf("bad key over REST: %d", st)
	}
	if st, _, _ := s.raw(t, keyAuth(badKey), "POST", "/", "", []byte(`{"jsonrpc":"2.0","id":1,"method":"iam.users.get","params":{"id":1}}`)); st != 401 {
		t.Errorf("bad key over JSON-RPC: %d", st)
	}
	forged := tok.Token[:strings.LastIndexByte(tok.Token, '.')+1] + "Zm9yZ2VkLXNpZ25hdHVyZS1zZWNyZXQ"
	secrets["forged JWT"] = forged
	if r := s.rpc(t, auth{bearer: forged}, "iam.users.get", map[string]any{"id": 1}); r.Err.dataCode() != "unauthenticated" {
		t.Errorf("forged JWT: %+v", r.Err)
	}
	if r := s.rpc(t, a, "iam.users.create", map[string]any{"login": uniq("short"), "password": "short"}); r.Err.dataCode() != "invalid_params" {
		t.Errorf("short password: %+v", r.Err)
	}

	// Request ids: the client's, echoed; a generated one when absent or insane.
	reqID := func(id, method, path string, body []byte) string {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
		req.Header.Set("X-Api-Key", adminKey)
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
		return resp.Header.Get("X-Request-Id")
	}
	if got := reqID("trace-rest-0001", "GET", "/iam/users/1", nil); got != "trace-rest-0001" {
		t.Errorf("REST request id echoed as %q", got)
	}
	rpcBatch := []byte(`[{"jsonrpc":"2.0","id":1,"method":"iam.users.get","params":{"id":1}},{"jsonrpc":"2.0","id":2,"method":"iam.users.count"}]`)
	if got := reqID("trace-rpc-0002", "POST", "/", rpcBatch); got != "trace-rpc-0002" {
		t.Errorf("JSON-RPC request id echoed as %q", got)
	}
	genREST := reqID("", "GET", "/iam/users/1", nil)
	genRPC := reqID("", "POST", "/", []byte(`{"jsonrpc":"2.0","id":1,"method":"iam.users.count"}`))
	const insane = `evil id "with" quotes`
	replaced := reqID(insane, "GET", "/iam/users/1", nil)
	if genREST == "" || genRPC == "" || genREST == genRPC || replaced == "" || replaced == insane {
		t.Errorf("generated request ids: %q %q %q", genREST, genRPC, replaced)
	}

	out := s.logSoFar(t)
	for name, sec := range secrets {
		if sec == "" {
			t.Fatalf("secret %s is empty: the test lost track of it", name)
		}
		if strings.Contains(out, sec) {
			t.Errorf("the log contains the %s", name)
		}
		// The part of a JWT or key that makes it secret: its signature / random tail.
		if tail := sec[max(0, len(sec)-16):]; len(sec) > 24 && strings.Contains(out, tail) {
			t.Errorf("the log contains the tail of the %s", name)
		}
	}
	if strings.Contains(out, "with\\\"quotes") || strings.Contains(out, "evil id") {
		t.Error("an insane request id was logged")
	}

	lines := logLines(t, out)
	calls := map[string][]logLine{}
	for _, l := range lines {
		if l.str("msg") == "call" {
			calls[l.str("request_id")] = append(calls[l.str("request_id")], l)
		}
		if l.str("level") == "" || l.str("time") == "" {
			t.Errorf("log line without level or time: %v", l)
		}
	}
	check := func(id, protocol, method string, n int) {
		t.Helper()
		got := calls[id]
		if len(got) != n {
			t.Errorf("request %s: %d call lines, want %d (%v)", id, len(got), n, got)
			return
		}
		for _, l := range got {
			_, hasDur := l["duration"].(float64)
			if l.str("protocol") != protocol || l.str("code") != "ok" || l["user_id"] != float64(1) || !hasDur {
				t.Errorf("request %s: call line %v", id, l)
			}
			if method != "" && l.str("method") != method {
				t.Errorf("request %s: method %q, want %q", id, l.str("method"), method)
			}
		}
	}
	check("trace-rest-0001", "rest", "iam.users.get", 1)
	check("trace-rpc-0002", "jsonrpc", "", 2)
	check(genREST, "rest", "iam.users.get", 1)
	check(genRPC, "jsonrpc", "iam.users.count", 1)
	check(replaced, "rest", "iam.users.get", 1)
	// Failing calls are logged with their code.
	codes := map[string]int{}
	for _, ls := range calls {
		for _, l := range ls {
			codes[l.str("code")]++
		}
	}
	if codes["unauthenticated"] < 2 || codes["invalid_params"] < 1 {
		t.Errorf("codes logged: %v", codes)
	}
}

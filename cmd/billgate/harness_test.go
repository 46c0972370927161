package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billgate/billgate/pkg/pgtest"
	"github.com/billgate/billgate/service"
)

// Credentials every test server starts with (BILLGATE_ADMIN_*).
const (
	adminKey      = "live_e2eAdminKey0123456789abcdef"
	adminPassword = "admin-password-1"
	jwtSecret     = "e2e-jwt-secret-e2e-jwt-secret-0123"
)

// server is a billgate process booted through run(), as a user would start it.
type server struct {
	URL    string
	DBURL  string
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// databases returns the database URLs every end-to-end test runs against:
// a fresh SQLite file and a fresh PostgreSQL database.
func databases(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "billgate.db") },
		"postgres": func(t *testing.T) string { return pgtest.URL(t) },
	}
}

// forEachDB runs fn on a server booted on each database.
func forEachDB(t *testing.T, fn func(t *testing.T, s *server)) {
	names := []string{"sqlite", "postgres"}
	dbs := databases(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			fn(t, startServer(t, dbs[name](t), nil))
		})
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer boots `billgate serve` on a free port with dbURL and extra env.
func startServer(t *testing.T, dbURL string, env map[string]string) *server {
	t.Helper()
	addr := freePort(t)
	vars := map[string]string{
		"BILLGATE_LISTEN":         addr,
		"BILLGATE_DATABASE_URL":   dbURL,
		"BILLGATE_ADMIN_API_KEY":  adminKey,
		"BILLGATE_ADMIN_PASSWORD": adminPassword,
		"BILLGATE_JWT_SECRET":     jwtSecret,
		"BILLGATE_LOG_LEVEL":      "warn",
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{URL: "http://" + addr, DBURL: dbURL, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, io.Discard, s.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("server exited with %v", err)
		}
	})
	for i := 0; ; i++ {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("server did not start: %v\n%s", err, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if i > 1500 {
			t.Fatalf("server did not become healthy\n%s", s.stderr.String())
		}
	}
}

// logSoFar returns the server's stderr with every line logged before the
// call. The log is buffered (logwriter.go: written out every ~100 ms, errors
// at once), so a line logged during a call may not be on stderr yet when the
// reply arrives. logSoFar makes one more call, with a request id of its own,
// and polls stderr for that call's line with a generous deadline: lines are
// written in order, so everything logged before is there too. The server
// must log calls (log level info or debug).
func (s *server) logSoFar(t *testing.T) string {
	t.Helper()
	id := fmt.Sprintf("log-barrier-%d", time.Now().UnixNano())
	a := auth{key: adminKey, header: map[string]string{"X-Request-Id": id}}
	s.raw(t, a, "POST", "/", "application/json", []byte(`{"jsonrpc":"2.0","id":1,"method":"iam.users.count"}`))
	return s.waitLog(t, "the call line of request "+id, func(log string) bool {
		return strings.Contains(log, `"request_id":"`+id+`"`)
	})
}

// waitLog polls the server's stderr until ok accepts it (see logSoFar) and
// returns it; it fails the test after a minute.
func (s *server) waitLog(t *testing.T, what string, ok func(log string) bool) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		log := s.stderr.String()
		if ok(log) {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log never showed %s:\n%s", what, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// auth is how a request authenticates.
type auth struct {
	key    string // X-Api-Key
	bearer string // Authorization: Bearer
	basic  string // Basic with the key as user name
	header map[string]string
}

func keyAuth(k string) auth { return auth{key: k} }

func (a auth) apply(r *http.Request) {
	if a.key != "" {
		r.Header.Set("X-Api-Key", a.key)
	}
	if a.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+a.bearer)
	}
	if a.basic != "" {
		r.SetBasicAuth(a.basic, "")
	}
	for k, v := range a.header {
		r.Header.Set(k, v)
	}
}

// rpcError is a JSON-RPC error object (also the REST error body's member).
type rpcError struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e *rpcError) dataCode() string {
	if e == nil {
		return ""
	}
	var d struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(e.Data, &d)
	return d.Code
}

func (e *rpcError) field(name string) string {
	var d struct {
		Fields map[string]string `json:"fields"`
	}
	_ = json.Unmarshal(e.Data, &d)
	return d.Fields[name]
}

// reply is one call's outcome on either protocol.
type reply struct {
	Status int
	Header http.Header
	Result json.RawMessage
	Err    *rpcError
}

// raw posts body to the JSON-RPC endpoint and returns the HTTP response.
func (s *server) raw(t *testing.T, a auth, method, path, contentType string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	a.apply(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// rpc calls one JSON-RPC method.
func (s *server) rpc(t *testing.T, a auth, method string, params any) reply {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	status, h, b := s.raw(t, a, "POST", "/", "application/json", body)
	r := reply{Status: status, Header: h}
	var env struct {
		JSONRPC string          `json:"jsonrpc"`
		Result  json.RawMessage `json:"result"`
		Error   *rpcError       `json:"error"`
		ID      json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: bad JSON-RPC reply %d %q", method, status, b)
	}
	r.Result, r.Err = env.Result, env.Error
	return r
}

// rest calls a method over REST: path params are substituted from params, the
// rest go to the query string (GET, DELETE) or a JSON body.
func (s *server) rest(t *testing.T, a auth, m *service.Method, params map[string]any) reply {
	t.Helper()
	rest := map[string]any{}
	for k, v := range params {
		rest[k] = v
	}
	path := m.HTTP.Path
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, ":") {
			name := seg[1:]
			path = strings.Replace(path, seg, url.PathEscape(fmt.Sprint(rest[name])), 1)
			delete(rest, name)
		}
	}
	var body []byte
	if m.HTTP.Verb == "GET" || m.HTTP.Verb == "DELETE" {
		q := url.Values{}
		for k, v := range rest {
			q.Set(k, queryValue(v))
		}
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
	} else if len(rest) > 0 {
		body, _ = json.Marshal(rest)
	}
	status, h, b := s.raw(t, a, m.HTTP.Verb, path, "application/json", body)
	r := reply{Status: status, Header: h}
	if status >= 400 {
		var env struct {
			Error *rpcError `json:"error"`
		}
		if err := json.Unmarshal(b, &env); err != nil || env.Error == nil {
			t.Fatalf("%s %s: bad REST error body %d %q", m.HTTP.Verb, path, status, b)
		}
		r.Err = env.Error
	} else {
		r.Result = b
		if m.HTTP.Raw != "" {
			// A raw route (a PDF) answers with the bytes themselves: present
			// them as JSON-RPC does, base64 in the named member.
			r.Result, _ = json.Marshal(map[string][]byte{m.HTTP.Raw: b})
		}
	}
	return r
}

func queryValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = queryValue(e)
		}
		return strings.Join(parts, ",")
	case []int64:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	case []string:
		return strings.Join(x, ",")
	case map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// ok calls method over JSON-RPC, fails the test on an error, and decodes the result into out.
func (s *server) ok(t *testing.T, a auth, method string, params any, out any) {
	t.Helper()
	r := s.rpc(t, a, method, params)
	if r.Err != nil {
		t.Fatalf("%s(%v): %d %s %s", method, params, r.Err.Code, r.Err.Message, r.Err.Data)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result, out); err != nil {
			t.Fatalf("%s: decode %s: %v", method, r.Result, err)
		}
	}
}

// canonical re-encodes a JSON value without the named top-level fields (and
// without them in the objects of a top-level array), so results can be compared.
func canonical(t *testing.T, raw json.RawMessage, ignore []string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %q", raw)
	}
	strip := func(o any) {
		if m, ok := o.(map[string]any); ok {
			for _, f := range ignore {
				delete(m, f)
			}
		}
	}
	strip(v)
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			strip(e)
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// decode unmarshals a successful reply's result.
func decode(t *testing.T, r reply, out any) error {
	t.Helper()
	return json.Unmarshal(r.Result, out)
}

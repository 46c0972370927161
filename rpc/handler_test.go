package rpc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/billgate/billgate/rpc"
	"github.com/billgate/billgate/service"
)

func TestIDsAreEchoedExactly(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	for _, id := range []string{
		`1`, `0`, `-1`, `-42`, `12345678901234567890123`, `-12345678901234567890123`,
		`1.5`, `1.50`, `-0.000001`, `1e3`, `1E+2`, `-0`,
		`"abc"`, `""`, `"\u00e9t\u00e9"`, `"a\"b"`, `"été"`, `null`,
	} {
		t.Run(id, func(t *testing.T) {
			body := `{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":3,"subtrahend":1},"id":` + id + `}`
			expectResult(t, srv.post(body).single(t), "2", id)
			// the id of an error reply too
			expectError(t, srv.post(`{"jsonrpc":"2.0","method":"nope","id":`+id+`}`).single(t), jsonrpc2.CodeMethodNotFound, id)
			// and of an invalid request that had a valid id
			expectError(t, srv.post(`{"jsonrpc":"1.0","method":"test.get_data","id":`+id+`}`).single(t), jsonrpc2.CodeInvalidRequest, id)
		})
	}
}

func TestInvalidRequests(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	for _, tc := range []struct {
		name, body string
		code       int64
		id         string
	}{
		{"jsonrpc missing", `{"method":"test.get_data","id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","method":"test.get_data","id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"jsonrpc a number", `{"jsonrpc":2.0,"method":"test.get_data","id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"jsonrpc with a space", `{"jsonrpc":"2.0 ","method":"test.get_data","id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"jsonrpc null", `{"jsonrpc":null,"method":"test.get_data","id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"method missing", `{"jsonrpc":"2.0","id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"method a number", `{"jsonrpc":"2.0","method":1,"id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"method null", `{"jsonrpc":"2.0","method":null,"id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"method an object", `{"jsonrpc":"2.0","method":{},"id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"params a string", `{"jsonrpc":"2.0","method":"test.get_data","params":"x","id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"params a number", `{"jsonrpc":"2.0","method":"test.get_data","params":1,"id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"params null", `{"jsonrpc":"2.0","method":"test.get_data","params":null,"id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"params true", `{"jsonrpc":"2.0","method":"test.get_data","params":true,"id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"id true", `{"jsonrpc":"2.0","method":"test.get_data","id":true}`, jsonrpc2.CodeInvalidRequest, "null"},
		{"id an object", `{"jsonrpc":"2.0","method":"test.get_data","id":{"a":1}}`, jsonrpc2.CodeInvalidRequest, "null"},
		{"id an array", `{"jsonrpc":"2.0","method":"test.get_data","id":[1]}`, jsonrpc2.CodeInvalidRequest, "null"},
		{"duplicate method", `{"jsonrpc":"2.0","method":"test.get_data","method":"nope","id":7}`, jsonrpc2.CodeInvalidRequest, "7"},
		{"duplicate id", `{"jsonrpc":"2.0","method":"test.get_data","id":1,"id":2}`, jsonrpc2.CodeInvalidRequest, "null"},
		{"invalid request without id is answered", `{"jsonrpc":"1.0","method":"test.get_data"}`, jsonrpc2.CodeInvalidRequest, "null"},
		{"top-level number", `1`, jsonrpc2.CodeInvalidRequest, "null"},
		{"top-level string", `"x"`, jsonrpc2.CodeInvalidRequest, "null"},
		{"top-level null", ` null `, jsonrpc2.CodeInvalidRequest, "null"},
		{"top-level true", `true`, jsonrpc2.CodeInvalidRequest, "null"},
		{"empty body", ``, jsonrpc2.CodeParseError, "null"},
		{"blank body", " \n\t ", jsonrpc2.CodeParseError, "null"},
		{"trailing garbage", `{"jsonrpc":"2.0","method":"test.get_data","id":1} x`, jsonrpc2.CodeParseError, "null"},
		{"two objects", `{"jsonrpc":"2.0","method":"test.get_data","id":1}{}`, jsonrpc2.CodeParseError, "null"},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"method\":\"test.get_data\",\"id\":\"\xff\"}", jsonrpc2.CodeParseError, "null"},
		{"byte order mark", "\ufeff{\"jsonrpc\":\"2.0\",\"method\":\"test.get_data\",\"id\":1}", jsonrpc2.CodeParseError, "null"},
		{"reserved rpc. name", `{"jsonrpc":"2.0","method":"rpc.foo","id":7}`, jsonrpc2.CodeMethodNotFound, "7"},
		{"reserved rpc. name, positional", `{"jsonrpc":"2.0","method":"rpc.foo","params":[1],"id":7}`, jsonrpc2.CodeMethodNotFound, "7"},
		{"unknown method, positional", `{"jsonrpc":"2.0","method":"nope","params":[1],"id":7}`, jsonrpc2.CodeMethodNotFound, "7"},
		{"huge number param", `{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":123456789012345678901234567890,"subtrahend":1},"id":7}`, jsonrpc2.CodeInvalidParams, "7"},
		{"out of range float param", `{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":1e400,"subtrahend":1},"id":7}`, jsonrpc2.CodeInvalidParams, "7"},
		{"missing required param", `{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":1},"id":7}`, jsonrpc2.CodeInvalidParams, "7"},
		{"authentication required", `{"jsonrpc":"2.0","method":"test.private","id":7}`, -32005, "7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := srv.post(tc.body).single(t)
			expectError(t, resp, tc.code, tc.id)
			if d := resp.data(t); service.Code(d.Code).Number() != tc.code {
				t.Errorf("data.code %q does not match %d", d.Code, tc.code)
			}
		})
	}
}

func TestEscapedNamesAndExtraMembers(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	body := `{"jsonr\u0070c":"2\u002e0","m\u0065thod":"test.sub\u0074ract","params":{"min\u0075end":5,"subtrahend":2},"extra":[1,{"id":9}],"id":"x"}`
	expectResult(t, srv.post(body).single(t), "3", `"x"`)
}

func TestInvalidParams(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	resp := srv.post(`{"jsonrpc":"2.0","method":"test.subtract","params":[42,23],"id":1}`).single(t)
	expectError(t, resp, jsonrpc2.CodeInvalidParams, "1")
	if resp.Error.Message != "params must be an object (by name)" {
		t.Errorf("message %q", resp.Error.Message)
	}

	resp = srv.post(`{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":1,"subtrahend":2,"bogus":3},"id":2}`).single(t)
	expectError(t, resp, jsonrpc2.CodeInvalidParams, "2")
	if d := resp.data(t); d.Code != "invalid_params" || d.Fields["bogus"] == "" {
		t.Errorf("data %+v does not name the unknown field", d)
	}

	resp = srv.post(`{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":1,"subtrahend":2,"minuend":3},"id":3}`).single(t)
	expectError(t, resp, jsonrpc2.CodeInvalidParams, "3")
	if d := resp.data(t); d.Fields["minuend"] == "" {
		t.Errorf("data %+v does not name the duplicate field", d)
	}

	resp = srv.post(`{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":"x","subtrahend":2},"id":4}`).single(t)
	expectError(t, resp, jsonrpc2.CodeInvalidParams, "4")
	if d := resp.data(t); d.Fields["minuend"] == "" {
		t.Errorf("data %+v does not name the mistyped field", d)
	}
}

func TestDeeplyNested(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	// Beyond encoding/json's nesting limit: a parse error, not a crash.
	expectError(t, srv.post(deep(100_000)).single(t), jsonrpc2.CodeParseError, "null")
	// Within it: a batch of one element that is not a request object.
	got := srv.post("[" + deep(5000) + "]").batch(t)
	if len(got) != 1 {
		t.Fatalf("%d replies", len(got))
	}
	expectError(t, &got[0], jsonrpc2.CodeInvalidRequest, "null")
	// Deep params: the field gets an invalid params error.
	body := `{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":` + deep(5000) + `,"subtrahend":1},"id":1}`
	expectError(t, srv.post(body).single(t), jsonrpc2.CodeInvalidParams, "1")
	// Deep values round-trip.
	body = `{"jsonrpc":"2.0","method":"test.echo","params":{"value":` + deep(500) + `},"id":1}`
	expectResult(t, srv.post(body).single(t), deep(500), "1")
}

func TestResults(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	expectResult(t, srv.post(`{"jsonrpc":"2.0","method":"test.nil","id":1}`).single(t), "null", "1")
	expectResult(t, srv.post(`{"jsonrpc":"2.0","method":"system.version","id":1}`).single(t),
		`{"name":"billgate","version":"test","api_version":"2026-11-21"}`, "1")
	expectResult(t, srv.post(`{"jsonrpc":"2.0","method":"test.echo","params":{"value":{"a":"<b>"}},"id":1}`).single(t),
		`{"a":"\u003cb\u003e"}`, "1")

	for _, method := range []string{"test.panic", "test.unencodable", "test.marshal_panic"} {
		res := srv.post(`{"jsonrpc":"2.0","method":"` + method + `","id":1}`)
		expectError(t, res.single(t), jsonrpc2.CodeInternalError, "1")
		if s := string(res.body); strings.Contains(s, "secret") || strings.Contains(s, "panic") || strings.Contains(s, "Inf") {
			t.Errorf("%s: the cause leaks: %s", method, s)
		}
		// In a batch, where calls run on their own goroutines.
		res = srv.post(`[{"jsonrpc":"2.0","method":"` + method + `","id":1},{"jsonrpc":"2.0","method":"` + method + `"},{"jsonrpc":"2.0","method":"test.get_data","id":2}]`)
		got := res.batch(t)
		if len(got) != 2 {
			t.Fatalf("%s: %d replies: %s", method, len(got), res.body)
		}
		expectError(t, &got[0], jsonrpc2.CodeInternalError, "1")
		expectResult(t, &got[1], `["hello",5]`, "2")
	}
}

func TestHTTPTransport(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	call := `{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":42,"subtrahend":23},"id":1}`

	t.Run("form content type is read as JSON", func(t *testing.T) {
		expectResult(t, srv.post(call, "Content-Type", "application/x-www-form-urlencoded").single(t), "19", "1")
	})
	t.Run("request id is echoed", func(t *testing.T) {
		res := srv.post(call, "X-Request-Id", "req-123")
		if got := res.header.Get("X-Request-Id"); got != "req-123" {
			t.Errorf("X-Request-Id %q", got)
		}
	})
	t.Run("request id is generated", func(t *testing.T) {
		a, b := srv.post(call).header.Get("X-Request-Id"), srv.post(call).header.Get("X-Request-Id")
		if a == "" || a == b {
			t.Errorf("generated ids %q and %q", a, b)
		}
	})
	t.Run("only POST", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		res := srv.do(req)
		res.expect(t, http.StatusMethodNotAllowed)
		if res.header.Get("Allow") != http.MethodPost {
			t.Errorf("Allow %q", res.header.Get("Allow"))
		}
	})
	t.Run("deprecation header is copied", func(t *testing.T) {
		res := srv.post(`[{"jsonrpc":"2.0","method":"test.deprecated","id":1},{"jsonrpc":"2.0","method":"test.get_data","id":2}]`)
		if len(res.batch(t)) != 2 || res.header.Get("Deprecation") != "true" {
			t.Errorf("Deprecation %q", res.header.Get("Deprecation"))
		}
		if res := srv.post(`{"jsonrpc":"2.0","method":"test.deprecated"}`); res.header.Get("Deprecation") != "true" {
			t.Errorf("notification: Deprecation %q", res.header.Get("Deprecation"))
		}
	})
}

func TestAuthentication(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	call := `{"jsonrpc":"2.0","method":"test.get_data","id":1}`
	for name, hdr := range map[string][]string{
		"X-Api-Key":  {"X-Api-Key", "bogus"},
		"Basic auth": {"Authorization", "Basic Ym9ndXM6"}, // bogus:
	} {
		t.Run(name, func(t *testing.T) {
			res := srv.post(call, hdr...)
			res.expect(t, http.StatusUnauthorized)
			var resp response
			checkResponse(t, res.body, &resp)
			expectError(t, &resp, -32005, "null")
		})
	}
	t.Run("a bad JWT is a per-call error", func(t *testing.T) {
		res := srv.post(`[{"jsonrpc":"2.0","method":"test.private","id":1},{"jsonrpc":"2.0","method":"test.get_data","id":2}]`,
			"Authorization", "Bearer not.a.token")
		got := res.batch(t)
		expectError(t, &got[0], -32005, "1")
		expectResult(t, &got[1], `["hello",5]`, "2")
	})
}

func TestLimits(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{MaxBodyBytes: 1024, MaxBatch: 3})
	el := `{"jsonrpc":"2.0","method":"test.get_data","id":1}`

	big := `{"jsonrpc":"2.0","method":"test.echo","params":{"value":"` + strings.Repeat("x", 2000) + `"},"id":1}`
	tooLarge := func(t *testing.T, res *result) {
		t.Helper()
		res.expect(t, http.StatusRequestEntityTooLarge)
		var resp response
		checkResponse(t, res.body, &resp)
		expectError(t, &resp, service.CodeTooLarge.Number(), "null")
	}
	t.Run("body with a Content-Length", func(t *testing.T) { tooLarge(t, srv.post(big)) })
	t.Run("streamed body", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(big))
		req.ContentLength = -1 // chunked: the limit applies while reading
		tooLarge(t, srv.do(req))
	})
	t.Run("body at the limit", func(t *testing.T) {
		body := `{"jsonrpc":"2.0","method":"test.get_data","id":1}`
		body += strings.Repeat(" ", 1024-len(body))
		expectResult(t, srv.post(body).single(t), `["hello",5]`, "1")
	})
	t.Run("batch at the limit", func(t *testing.T) {
		if got := srv.post("[" + el + "," + el + "," + el + "]").batch(t); len(got) != 3 {
			t.Errorf("%d replies", len(got))
		}
	})
	t.Run("batch over the limit", func(t *testing.T) {
		resp := srv.post("[" + el + "," + el + "," + el + "," + el + "]").single(t)
		expectError(t, resp, jsonrpc2.CodeInvalidRequest, "null")
		if !strings.Contains(resp.Error.Message, "batch too large") {
			t.Errorf("message %q", resp.Error.Message)
		}
	})
}

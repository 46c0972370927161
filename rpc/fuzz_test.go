package rpc_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/billgate/billgate/rpc"
)

// FuzzHandler checks that any body gets either HTTP 204 without a body, or a
// well-formed JSON-RPC 2.0 response (an object, or a non-empty array of them
// with no more replies than requests), and never a panic. Bodies that are not
// valid UTF-8 JSON get a single parse error.
func FuzzHandler(f *testing.F) {
	for _, tc := range specCases {
		f.Add([]byte(tc.body))
	}
	f.Add([]byte(`{"jsonrpc":"2.0","method":"test.sum","params":{"values":[1,2,3]},"id":-0.5e3}`))
	f.Add([]byte(`[{"jsonrpc":"2.0","method":"test.panic","id":1},{"jsonrpc":"2.0","method":"test.unencodable","id":2}]`))
	const maxBatch = 50
	h := rpc.NewHandler(newService(f), rpc.Options{MaxBodyBytes: 1 << 16, MaxBatch: maxBatch, Concurrency: 4})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := rec.Body.Bytes()
		switch rec.Code {
		case http.StatusNoContent:
			if len(out) != 0 {
				t.Fatalf("204 with a body: %q", out)
			}
			return
		case http.StatusOK, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("HTTP %d: %q", rec.Code, out)
		}
		if len(out) > 0 && out[0] == '{' {
			var resp response
			if msg := validResponse(out, &resp); msg != "" {
				t.Fatalf("%s: %q", msg, out)
			}
			if (!utf8.Valid(body) || !json.Valid(body)) && (resp.Error == nil || resp.Error.Code != -32700 || string(resp.ID) != "null") {
				t.Fatalf("invalid JSON %q answered %q", body, out)
			}
			return
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(out, &raws); err != nil || len(raws) == 0 {
			t.Fatalf("neither a response nor a non-empty array of them: %q", out)
		}
		var reqs []json.RawMessage
		if err := json.Unmarshal(body, &reqs); err != nil {
			t.Fatalf("array reply to a body that is not an array %q: %q", body, out)
		}
		if len(raws) > len(reqs) || len(reqs) > maxBatch {
			t.Fatalf("%d replies to %d requests: %q", len(raws), len(reqs), out)
		}
		for _, raw := range raws {
			var resp response
			if msg := validResponse(raw, &resp); msg != "" {
				t.Fatalf("%s: %q", msg, raw)
			}
		}
	})
}

// FuzzIDEcho checks that any valid id (a JSON string, number or null) comes
// back byte for byte, on a result and on an error reply.
func FuzzIDEcho(f *testing.F) {
	for _, id := range []string{`1`, `-0`, `1.50`, `-1E+400`, `12345678901234567890123`, `"x"`, `"\u00e9\ud800"`, `null`, ` 7 `} {
		f.Add(id)
	}
	h := rpc.NewHandler(newService(f), rpc.Options{})
	f.Fuzz(func(t *testing.T, id string) {
		id = strings.Trim(id, " \t\r\n")
		if !utf8.ValidString(id) || !json.Valid([]byte(id)) {
			t.Skip("not a JSON value")
		}
		if c := id[0]; c != '"' && c != '-' && (c < '0' || c > '9') && id != "null" {
			t.Skip("not a valid id")
		}
		for _, tc := range []struct {
			method string
			code   int64
		}{{"test.get_data", 0}, {"nope", -32601}} {
			body := `{"jsonrpc":"2.0","method":"` + tc.method + `","id":` + id + `}`
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
			var resp response
			if msg := validResponse(rec.Body.Bytes(), &resp); msg != "" {
				t.Fatalf("%s: %q", msg, rec.Body.Bytes())
			}
			if string(resp.ID) != id {
				t.Fatalf("id %s came back as %s", id, resp.ID)
			}
			if tc.code != 0 && (resp.Error == nil || resp.Error.Code != tc.code) {
				t.Fatalf("want error %d: %q", tc.code, rec.Body.Bytes())
			}
			if tc.code == 0 && string(resp.Result) != `["hello",5]` {
				t.Fatalf("want the result: %q", rec.Body.Bytes())
			}
		}
	})
}

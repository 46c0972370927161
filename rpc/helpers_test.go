package rpc_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/billgate/billgate/rpc"
	"github.com/billgate/billgate/service"
)

type subtractParams struct {
	Minuend    int `json:"minuend" required:"true"`
	Subtrahend int `json:"subtrahend" required:"true"`
}

type sumParams struct {
	Values []int `json:"values"`
}

type valueParams struct {
	Value json.RawMessage `json:"value"`
}

type failParams struct {
	Code string `json:"code" required:"true"`
}

// unencodable is a result encoding/json refuses.
type unencodable struct {
	F float64 `json:"f"`
}

// marshalPanic is a result whose encoding panics: the transport, not the
// service, has to recover it.
type marshalPanic struct{}

func (marshalPanic) MarshalJSON() ([]byte, error) { panic("secret marshal panic") }

// notified counts the calls of test.notify_hello, to show notifications run.
var notified atomic.Int64

// newService returns a real service (no store) with the test methods of the
// specification's examples registered on it.
func newService(t testing.TB) *service.Service {
	t.Helper()
	svc := service.New(service.Config{Name: "billgate", Version: "test", APIVersion: "2026-11-21", JWTSecret: "test-secret"}, nil, nil, nil)
	r := svc.Registry()
	service.Register(r, service.Decl[subtractParams, int]{Name: "test.subtract", Auth: service.Public,
		Do: func(_ context.Context, p *subtractParams) (int, error) { return p.Minuend - p.Subtrahend, nil }})
	service.Register(r, service.Decl[sumParams, int]{Name: "test.sum", Auth: service.Public,
		Do: func(_ context.Context, p *sumParams) (int, error) {
			n := 0
			for _, v := range p.Values {
				n += v
			}
			return n, nil
		}})
	service.Register(r, service.Decl[valueParams, string]{Name: "test.notify_hello", Auth: service.Public,
		Do: func(context.Context, *valueParams) (string, error) { notified.Add(1); return "hello", nil }})
	service.Register(r, service.Decl[service.NoParams, []any]{Name: "test.get_data", Auth: service.Public,
		Do: func(context.Context, *service.NoParams) ([]any, error) { return []any{"hello", 5}, nil }})
	service.Register(r, service.Decl[valueParams, json.RawMessage]{Name: "test.echo", Auth: service.Public,
		Do: func(_ context.Context, p *valueParams) (json.RawMessage, error) { return p.Value, nil }})
	service.Register(r, service.Decl[failParams, any]{Name: "test.fail", Auth: service.Public,
		Do: func(_ context.Context, p *failParams) (any, error) {
			return nil, service.Errorf(service.Code(p.Code), "failed with %s", p.Code)
		}})
	service.Register(r, service.Decl[service.NoParams, any]{Name: "test.panic", Auth: service.Public,
		Do: func(context.Context, *service.NoParams) (any, error) { panic("secret panic text") }})
	service.Register(r, service.Decl[service.NoParams, *unencodable]{Name: "test.unencodable", Auth: service.Public,
		Do: func(context.Context, *service.NoParams) (*unencodable, error) {
			return &unencodable{F: math.Inf(1)}, nil
		}})
	service.Register(r, service.Decl[service.NoParams, marshalPanic]{Name: "test.marshal_panic", Auth: service.Public,
		Do: func(context.Context, *service.NoParams) (marshalPanic, error) { return marshalPanic{}, nil }})
	service.Register(r, service.Decl[service.NoParams, *unencodable]{Name: "test.nil", Auth: service.Public,
		Do: func(context.Context, *service.NoParams) (*unencodable, error) { return nil, nil }})
	service.Register(r, service.Decl[service.NoParams, string]{Name: "test.deprecated", Auth: service.Public,
		Do: func(ctx context.Context, _ *service.NoParams) (string, error) {
			service.SessionFrom(ctx).SetHeader("Deprecation", "true")
			return "ok", nil
		}})
	service.Register(r, service.Decl[service.NoParams, string]{Name: "test.private", Auth: service.Authenticated,
		Do: func(context.Context, *service.NoParams) (string, error) { return "secret", nil }})
	return svc
}

// testServer serves a handler over real HTTP.
type testServer struct {
	*httptest.Server
	t *testing.T
}

func newServer(t *testing.T, svc *service.Service, opts rpc.Options) *testServer {
	t.Helper()
	if svc == nil {
		svc = newService(t)
	}
	srv := httptest.NewServer(rpc.NewHandler(svc, opts))
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, t: t}
}

// result is an HTTP response with its body read.
type result struct {
	status int
	header http.Header
	body   []byte
}

// post sends body with the given header pairs (name, value, …). Without a
// Content-Type pair it sends application/json.
func (s *testServer) post(body string, hdr ...string) *result {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), http.MethodPost, s.URL, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return s.do(req)
}

func (s *testServer) do(req *http.Request) *result {
	s.t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return &result{status: resp.StatusCode, header: resp.Header, body: b}
}

// response is one JSON-RPC reply as the client sees it.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result"`
	Error   *jsonrpc2.Error `json:"error"`
	ID      json.RawMessage `json:"id"`
}

// errorData is the data member of our errors.
type errorData struct {
	Code   string            `json:"code"`
	Fields map[string]string `json:"fields"`
	Reason string            `json:"reason"`
}

func (r *response) data(t *testing.T) errorData {
	t.Helper()
	var d errorData
	if r.Error == nil || r.Error.Data == nil {
		t.Fatalf("no error data in %+v", r)
	}
	if err := json.Unmarshal(*r.Error.Data, &d); err != nil {
		t.Fatalf("error data: %v", err)
	}
	return d
}

// single checks a 200 reply holding one response object and returns it.
func (r *result) single(t *testing.T) *response {
	t.Helper()
	r.expect(t, http.StatusOK)
	if len(r.body) == 0 || r.body[0] != '{' {
		t.Fatalf("want a single response object, got %s", r.body)
	}
	var resp response
	checkResponse(t, r.body, &resp)
	return &resp
}

// batch checks a 200 reply holding an array of responses and returns them.
func (r *result) batch(t *testing.T) []response {
	t.Helper()
	r.expect(t, http.StatusOK)
	var raws []json.RawMessage
	if err := json.Unmarshal(r.body, &raws); err != nil || r.body[0] != '[' {
		t.Fatalf("want an array of responses, got %s (%v)", r.body, err)
	}
	out := make([]response, len(raws))
	for i, raw := range raws {
		checkResponse(t, raw, &out[i])
	}
	return out
}

func (r *result) expect(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("HTTP status %d, want %d; body %s", r.status, status, r.body)
	}
	if status != http.StatusNoContent {
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
	}
}

// noContent checks a 204 reply without a body.
func (r *result) noContent(t *testing.T) {
	t.Helper()
	r.expect(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Fatalf("204 with a body: %s", r.body)
	}
}

// checkResponse checks raw is a well-formed JSON-RPC 2.0 response and decodes it.
func checkResponse(t testing.TB, raw []byte, resp *response) {
	t.Helper()
	if err := validResponse(raw, resp); err != "" {
		t.Fatalf("%s: %s", err, raw)
	}
}

// validResponse returns what is wrong with a response object ("" if nothing).
func validResponse(raw []byte, resp *response) string {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return "not an object"
	}
	if err := json.Unmarshal(raw, resp); err != nil {
		return "cannot decode: " + err.Error()
	}
	_, hasResult := members["result"]
	_, hasError := members["error"]
	_, hasID := members["id"]
	switch {
	case resp.JSONRPC != "2.0":
		return "jsonrpc is not 2.0"
	case hasResult == hasError:
		return "want exactly one of result and error"
	case !hasID:
		return "no id"
	case len(members) != 3:
		return "unexpected members"
	case hasError && (resp.Error == nil || resp.Error.Message == ""):
		return "error without a message"
	}
	return ""
}

// expectError checks resp is an error with code and id (raw JSON).
func expectError(t *testing.T, resp *response, code int64, id string) {
	t.Helper()
	if resp.Error == nil {
		t.Fatalf("want error %d, got result %s", code, resp.Result)
	}
	if resp.Error.Code != code {
		t.Errorf("error code %d (%s), want %d", resp.Error.Code, resp.Error.Message, code)
	}
	if string(resp.ID) != id {
		t.Errorf("id %s, want %s", resp.ID, id)
	}
}

// expectResult checks resp is a result equal to want (raw JSON) with id.
func expectResult(t *testing.T, resp *response, want, id string) {
	t.Helper()
	if resp.Error != nil {
		t.Fatalf("want result %s, got error %d %s", want, resp.Error.Code, resp.Error.Message)
	}
	if string(resp.Result) != want {
		t.Errorf("result %s, want %s", resp.Result, want)
	}
	if string(resp.ID) != id {
		t.Errorf("id %s, want %s", resp.ID, id)
	}
}

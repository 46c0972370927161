package rpc_test

import (
	"testing"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/billgate/billgate/rpc"
	"github.com/billgate/billgate/service"
)

// reply is an expected response: a result (code 0) or an error code, with the id.
type reply struct {
	id     string
	result string
	code   int64
}

func ok(id, result string) reply { return reply{id: id, result: result} }
func fail(id string, code int64) reply {
	return reply{id: id, code: code}
}

// specCase is an example of section 7 of the JSON-RPC 2.0 specification,
// adapted to the test methods: subtract → test.subtract, update/foobar →
// test.notify_hello, sum → test.sum, get_data → test.get_data. Positional
// params get -32602 in this API.
type specCase struct {
	name  string
	body  string
	batch bool    // the reply is an array
	want  []reply // nil: HTTP 204, no body
}

var specCases = []specCase{
	{name: "positional parameters",
		body: `{"jsonrpc": "2.0", "method": "test.subtract", "params": [42, 23], "id": 1}`,
		want: []reply{fail("1", jsonrpc2.CodeInvalidParams)}},
	{name: "positional parameters reversed",
		body: `{"jsonrpc": "2.0", "method": "test.subtract", "params": [23, 42], "id": 2}`,
		want: []reply{fail("2", jsonrpc2.CodeInvalidParams)}},
	{name: "named parameters",
		body: `{"jsonrpc": "2.0", "method": "test.subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}`,
		want: []reply{ok("3", "19")}},
	{name: "named parameters reordered",
		body: `{"jsonrpc": "2.0", "method": "test.subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}`,
		want: []reply{ok("4", "19")}},
	{name: "notification with positional params",
		body: `{"jsonrpc": "2.0", "method": "test.notify_hello", "params": [1,2,3,4,5]}`},
	{name: "notification without params",
		body: `{"jsonrpc": "2.0", "method": "test.notify_hello"}`},
	{name: "notification of an unknown method",
		body: `{"jsonrpc": "2.0", "method": "foobar"}`},
	{name: "non-existent method",
		body: `{"jsonrpc": "2.0", "method": "foobar", "id": "1"}`,
		want: []reply{fail(`"1"`, jsonrpc2.CodeMethodNotFound)}},
	{name: "invalid JSON",
		body: `{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
		want: []reply{fail("null", jsonrpc2.CodeParseError)}},
	{name: "invalid request object",
		body: `{"jsonrpc": "2.0", "method": 1, "params": "bar"}`,
		want: []reply{fail("null", jsonrpc2.CodeInvalidRequest)}},
	{name: "batch, invalid JSON",
		body: `[
  {"jsonrpc": "2.0", "method": "test.sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`,
		want: []reply{fail("null", jsonrpc2.CodeParseError)}},
	{name: "empty array",
		body: `[]`,
		want: []reply{fail("null", jsonrpc2.CodeInvalidRequest)}},
	{name: "invalid batch of one",
		body: `[1]`, batch: true,
		want: []reply{fail("null", jsonrpc2.CodeInvalidRequest)}},
	{name: "invalid batch",
		body: `[1,2,3]`, batch: true,
		want: []reply{
			fail("null", jsonrpc2.CodeInvalidRequest),
			fail("null", jsonrpc2.CodeInvalidRequest),
			fail("null", jsonrpc2.CodeInvalidRequest),
		}},
	{name: "batch",
		body: `[
  {"jsonrpc": "2.0", "method": "test.sum", "params": {"values": [1,2,4]}, "id": "1"},
  {"jsonrpc": "2.0", "method": "test.notify_hello", "params": {"value": [7]}},
  {"jsonrpc": "2.0", "method": "test.subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": "2"},
  {"foo": "boo"},
  {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
  {"jsonrpc": "2.0", "method": "test.get_data", "id": "9"}
]`, batch: true,
		want: []reply{
			ok(`"1"`, "7"),
			ok(`"2"`, "19"),
			fail("null", jsonrpc2.CodeInvalidRequest),
			fail(`"5"`, jsonrpc2.CodeMethodNotFound),
			ok(`"9"`, `["hello",5]`),
		}},
	{name: "batch of positional params",
		body: `[
  {"jsonrpc": "2.0", "method": "test.sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method": "test.subtract", "params": [42,23], "id": "2"}
]`, batch: true,
		want: []reply{fail(`"1"`, jsonrpc2.CodeInvalidParams), fail(`"2"`, jsonrpc2.CodeInvalidParams)}},
	{name: "batch, all notifications",
		body: `[
  {"jsonrpc": "2.0", "method": "test.notify_hello", "params": [1,2,4]},
  {"jsonrpc": "2.0", "method": "test.notify_hello", "params": {"value": 7}}
]`},
}

func TestSpecificationExamples(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	for _, tc := range specCases {
		t.Run(tc.name, func(t *testing.T) {
			res := srv.post(tc.body)
			if tc.want == nil {
				res.noContent(t)
				return
			}
			var got []response
			if tc.batch {
				got = res.batch(t)
			} else {
				got = []response{*res.single(t)}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d replies, want %d: %s", len(got), len(tc.want), res.body)
			}
			for i, w := range tc.want {
				if w.code != 0 {
					expectError(t, &got[i], w.code, w.id)
				} else {
					expectResult(t, &got[i], w.result, w.id)
				}
			}
		})
	}
}

// TestNotificationsRun checks that notifications are executed although never answered.
func TestNotificationsRun(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	before := notified.Load()
	srv.post(`{"jsonrpc":"2.0","method":"test.notify_hello","params":{"value":1}}`).noContent(t)
	srv.post(`[{"jsonrpc":"2.0","method":"test.notify_hello"},{"jsonrpc":"2.0","method":"test.notify_hello"}]`).noContent(t)
	if n := notified.Load() - before; n != 3 {
		t.Errorf("%d notifications ran, want 3", n)
	}
}

// TestErrorCodesMatchSpecification checks the service's numbers for the
// specification's own codes against the jsonrpc2 constants.
func TestErrorCodesMatchSpecification(t *testing.T) {
	for code, want := range map[service.Code]int64{
		service.CodeParseError:     jsonrpc2.CodeParseError,
		service.CodeInvalidRequest: jsonrpc2.CodeInvalidRequest,
		service.CodeMethodNotFound: jsonrpc2.CodeMethodNotFound,
		service.CodeInvalidParams:  jsonrpc2.CodeInvalidParams,
		service.CodeInternal:       jsonrpc2.CodeInternalError,
	} {
		if got := code.Number(); got != want {
			t.Errorf("%s is %d, want %d", code, got, want)
		}
	}
}

// TestEveryCodeRoundTrips checks that each service.Code reaches the wire as
// its number, with data.code naming it, over HTTP 200.
func TestEveryCodeRoundTrips(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	for _, code := range service.AllCodes {
		resp := srv.post(`{"jsonrpc":"2.0","method":"test.fail","params":{"code":"` + string(code) + `"},"id":1}`).single(t)
		expectError(t, resp, code.Number(), "1")
		if d := resp.data(t); d.Code != string(code) {
			t.Errorf("data.code %q, want %q", d.Code, code)
		}
		if code != service.CodeInternal && resp.Error.Message != "failed with "+string(code) {
			t.Errorf("message %q", resp.Error.Message)
		}
	}
}

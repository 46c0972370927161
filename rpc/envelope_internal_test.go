package rpc

import (
	"strings"
	"testing"
)

func TestScannerFindsValueBoundaries(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"a\"]}"rest`, `"a\"]}"`},
		{`"\\"x`, `"\\"`},
		{`{"a":"}","b":[1,{"c":"]"}]}x`, `{"a":"}","b":[1,{"c":"]"}]}`},
		{`[[],[[]],{}],`, `[[],[[]],{}]`},
		{`-1.5e3,`, `-1.5e3`},
		{`true}`, `true`},
		{`null`, `null`},
		{`12 `, `12`},
		{`{`, `{`}, // invalid input never reaches the scanner, but must not panic
		{`"abc`, `"abc`},
	} {
		if got := string(tc.in[:skipValue([]byte(tc.in), 0)]); got != tc.want {
			t.Errorf("skipValue(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestMembers(t *testing.T) {
	obj := []byte(` { "a" : 1 , "b\"c":{"x":[1,2]} ,"d":"e"} `)[1:]
	s := newScanner(obj[skipSpace(obj, 0):])
	var got []string
	for {
		k, v, ok := s.member()
		if !ok {
			break
		}
		got = append(got, unquote(k)+"="+string(v))
	}
	if want := `a=1|b"c={"x":[1,2]}|d="e"`; strings.Join(got, "|") != want {
		t.Errorf("members %q, want %q", strings.Join(got, "|"), want)
	}
}

// TestParseRequestDoesNotAllocate keeps the envelope of a call to a known
// method free of allocations.
func TestParseRequestDoesNotAllocate(t *testing.T) {
	names := map[string]string{"clients.get": "clients.get"}
	body := []byte(`{"jsonrpc":"2.0","method":"clients.get","params":{"id":1},"id":"abc"}`)
	var r request
	allocs := testing.AllocsPerRun(100, func() { r = parseRequest(body, names) })
	if r.err != nil || r.method != "clients.get" || string(r.id) != `"abc"` || string(r.params) != `{"id":1}` {
		t.Fatalf("parsed %+v", r)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per request", allocs)
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		in     string
		method string
		id     string // "" when nil
		notify bool
		params string
		err    bool
	}{
		{in: `{"jsonrpc":"2.0","method":"m","id":1}`, method: "m", id: "1"},
		{in: `{"jsonrpc":"2.0","method":"m"}`, method: "m", notify: true},
		{in: `{"jsonrpc":"2.0","method":"m","id":null}`, method: "m", id: "null"},
		{in: `{ "id" : "x" , "method" : "m" , "jsonrpc" : "2.0" }`, method: "m", id: `"x"`},
		{in: `{"jsonrpc":"2.0","method":"m\u00e9","params":[1],"id":-2}`, method: "mé", id: "-2", params: "[1]"},
		{in: `{"jsonrpc":"2.0","method":"m","params":{"a":{}},"id":0.5}`, method: "m", id: "0.5", params: `{"a":{}}`},
		{in: `{"jsonrpc":"2.0","method":"m","id":false}`, err: true},
		{in: `{"jsonrpc":"2.0","method":"m","params":"p","id":3}`, id: "3", err: true},
		{in: `{"jsonrpc":"2.0","method":"m","params":[],"params":{}}`, err: true},
		{in: `{"jsonrpc":"2.0","method":"m","id":1,"id":1}`, err: true},
		{in: `{"jsonrpc":"2.0","method":"m","jsonrpc":"2.0","id":4}`, id: "4", err: true},
		{in: `{"jsonrpc":"2.00","method":"m","id":1}`, id: "1", err: true},
		{in: `{}`, err: true},
		{in: `[]`, err: true},
	} {
		r := parseRequest([]byte(tc.in), nil)
		if (r.err != nil) != tc.err || string(r.id) != tc.id || r.notify != tc.notify ||
			r.method != tc.method || string(r.params) != tc.params {
			t.Errorf("%s: parsed %+v (err %v)", tc.in, r, r.err)
		}
	}
}

func TestParseArgs(t *testing.T) {
	args, err := parseArgs([]byte(`{"a":1,"b\u0063":[1,"]"],"d":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 3 || string(args["a"]) != "1" || string(args["bc"]) != `[1,"]"]` || string(args["d"]) != "null" {
		t.Errorf("args %q", args)
	}
	if _, err := parseArgs([]byte(`{"a":1,"\u0061":2}`)); err == nil || err.Fields["a"] == "" {
		t.Errorf("a duplicate parameter: %v", err)
	}
	if args, err := parseArgs([]byte(`{}`)); err != nil || len(args) != 0 {
		t.Errorf("empty params: %v %v", args, err)
	}
}

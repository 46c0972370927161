package main

import (
	"strings"
	"testing"
)

func TestCheckRPC(t *testing.T) {
	cases := []struct {
		status   int
		body     string
		ok, fail int
	}{
		{200, `{"jsonrpc":"2.0","result":{"name":"billgate"},"id":1}`, 1, 0},
		{200, `{"jsonrpc":"2.0","error":{"code":-32001,"message":"client 9 not found"},"id":1}`, 0, 1},
		// another field order: decoded
		{200, `{"id":1,"jsonrpc":"2.0","result":null}`, 1, 0},
		{200, `{"id":1,"jsonrpc":"2.0","error":{"code":-32600}}`, 0, 1},
		{200, `{"id":1,"jsonrpc":"2.0"}`, 0, 1}, // neither result nor error
		{200, `not json`, 0, 1},
		{500, `{"jsonrpc":"2.0","result":1,"id":1}`, 0, 1},
	}
	for _, c := range cases {
		if ok, fail := checkRPC(c.status, []byte(c.body)); ok != c.ok || fail != c.fail {
			t.Errorf("checkRPC(%d, %s) = %d, %d; want %d, %d", c.status, c.body, ok, fail, c.ok, c.fail)
		}
	}
}

func TestCheckBatch(t *testing.T) {
	res := `{"jsonrpc":"2.0","result":{"id":5},"id":1}`
	bad := `{"jsonrpc":"2.0","error":{"code":-32001,"message":"client 9 not found"},"id":2}`
	body := func(parts ...string) []byte { return []byte("[" + strings.Join(parts, ",") + "]") }
	check := checkBatch(3)
	cases := []struct {
		name     string
		status   int
		body     []byte
		ok, fail int
	}{
		{"all results", 200, body(res, res, res), 3, 0},
		{"one error", 200, body(res, bad, res), 2, 1},
		{"a missing element", 200, body(res, res), 2, 1},
		{"another field order", 200, body(`{"id":1,"result":1,"jsonrpc":"2.0"}`, res, `{"error":{},"id":3,"jsonrpc":"2.0"}`), 2, 1},
		{"not a list", 200, []byte(`{"jsonrpc":"2.0","error":{"code":-32600},"id":null}`), 0, 3},
		{"HTTP error", 413, body(res, res, res), 0, 3},
	}
	for _, c := range cases {
		if ok, fail := check(c.status, c.body); ok != c.ok || fail != c.fail {
			t.Errorf("%s: %d, %d; want %d, %d", c.name, ok, fail, c.ok, c.fail)
		}
	}
}

func TestCheckREST(t *testing.T) {
	for status, want := range map[int]int{200: 1, 201: 1, 204: 1, 301: 0, 404: 0, 503: 0} {
		if ok, fail := checkREST(status, nil); ok != want || fail != 1-want {
			t.Errorf("checkREST(%d) = %d, %d", status, ok, fail)
		}
	}
}

package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sourcegraph/jsonrpc2"
	wsstream "github.com/sourcegraph/jsonrpc2/websocket"

	"github.com/billgate/billgate/rpc"
	"github.com/billgate/billgate/service"
)

// failsafe bounds every wait of these tests: reaching it is a failure (a hang), never a measurement.
const failsafe = 30 * time.Second

type barrierParams struct {
	N int `json:"n" required:"true"`
}

// wsServer serves the WebSocket handler over real HTTP; done receives one
// value each time ServeHTTP returns.
type wsServer struct {
	*httptest.Server
	h    *rpc.WebSocketHandler
	done chan struct{}
	// arrived counts the calls that reached test.barrier; release is closed
	// once N have, so that each of them returns only when all N run at once.
	arrived atomic.Int64
	release chan struct{}
	once    sync.Once
}

func newWSServer(t *testing.T, opts rpc.WebSocketOptions) *wsServer {
	t.Helper()
	svc := newService(t)
	s := &wsServer{done: make(chan struct{}, 16), release: make(chan struct{})}
	service.Register(svc.Registry(), service.Decl[barrierParams, int]{Name: "test.barrier", Auth: service.Public,
		Do: func(ctx context.Context, p *barrierParams) (int, error) {
			if s.arrived.Add(1) == int64(p.N) {
				s.once.Do(func() { close(s.release) })
			}
			select {
			case <-s.release:
				return p.N, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}})
	service.Register(svc.Registry(), service.Decl[service.NoParams, string]{Name: "test.block", Auth: service.Public,
		Do: func(ctx context.Context, _ *service.NoParams) (string, error) {
			s.arrived.Add(1)
			<-ctx.Done() // until the connection goes
			return "", ctx.Err()
		}})
	s.h = rpc.NewWebSocketHandler(svc, opts)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.h.ServeHTTP(w, r)
		s.done <- struct{}{}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *wsServer) dial(t *testing.T, hdr ...string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	d := websocket.Dialer{HandshakeTimeout: failsafe}
	ws, resp, err := d.DialContext(t.Context(), "ws"+strings.TrimPrefix(s.URL, "http"), h)
	if ws != nil {
		t.Cleanup(func() { ws.Close() })
	}
	return ws, resp, err
}

// client returns a jsonrpc2.Conn over a new connection.
func (s *wsServer) client(t *testing.T) *jsonrpc2.Conn {
	t.Helper()
	ws, _, err := s.dial(t)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonrpc2.NewConn(context.Background(), wsstream.NewObjectStream(ws), noServerCalls{})
	t.Cleanup(func() { c.Close() })
	return c
}

type noServerCalls struct{}

func (noServerCalls) Handle(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request) {}

// exchange sends raw messages and reads one reply per expected reply.
func exchange(t *testing.T, ws *websocket.Conn, msg string) *response {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	return readReply(t, ws)
}

func readReply(t *testing.T, ws *websocket.Conn) *response {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(failsafe))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var r response
	checkResponse(t, b, &r)
	return &r
}

// TestWebSocketConcurrentCalls: the calls of one connection run at once, and
// every reply carries the id of its request, whatever order they finish in.
func TestWebSocketConcurrentCalls(t *testing.T) {
	s := newWSServer(t, rpc.WebSocketOptions{Concurrency: 4})
	c := s.client(t)
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	// Four calls that can only finish together: served one at a time, the
	// first would wait for ever (and the failsafe would end the test).
	var waiters []jsonrpc2.Waiter
	for range 4 {
		w, err := c.DispatchCall(ctx, "test.barrier", map[string]int{"n": 4})
		if err != nil {
			t.Fatal(err)
		}
		waiters = append(waiters, w)
	}
	// Many more in flight at once, each with its own answer.
	const n = 200
	sums := make([]jsonrpc2.Waiter, n)
	for i := range n {
		w, err := c.DispatchCall(ctx, "test.subtract", map[string]int{"minuend": 1000, "subtrahend": i})
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = w
	}
	for _, w := range waiters {
		var got int
		if err := w.Wait(ctx, &got); err != nil || got != 4 {
			t.Fatalf("barrier: %d, %v", got, err)
		}
	}
	for i, w := range sums {
		var got int
		if err := w.Wait(ctx, &got); err != nil || got != 1000-i {
			t.Errorf("call %d: %d, %v", i, got, err)
		}
	}
}

// TestWebSocketErrors: errors are jsonrpc2 errors with the API's codes and
// data, as over HTTP.
func TestWebSocketErrors(t *testing.T) {
	s := newWSServer(t, rpc.WebSocketOptions{})
	c := s.client(t)
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	for _, tc := range []struct {
		method string
		params any
		code   int64
		data   string
	}{
		{"test.fail", map[string]string{"code": "not_found"}, -32001, `{"code":"not_found"}`},
		{"test.fail", map[string]string{"code": "unprocessable"}, -32003, `{"code":"unprocessable"}`},
		{"test.nope", map[string]any{}, -32601, ""},
		{"test.subtract", []int{1, 2}, -32602, `{"code":"invalid_params","fields":{"params":"must be an object (by name), not an array"}}`},
		{"test.subtract", map[string]any{"minuend": "x"}, -32602, ""},
		{"test.private", nil, -32005, `{"code":"unauthenticated"}`},
		{"test.panic", nil, -32603, `{"code":"internal"}`},
		{"test.unencodable", nil, -32603, `{"code":"internal"}`},
		{"rpc.nope", nil, -32601, ""},
	} {
		err := c.Call(ctx, tc.method, tc.params, nil)
		var e *jsonrpc2.Error
		if !errors.As(err, &e) || e.Code != tc.code {
			t.Errorf("%s(%v): %v, want code %d", tc.method, tc.params, err, tc.code)
			continue
		}
		if strings.Contains(e.Message, "secret") {
			t.Errorf("%s: the cause leaks: %s", tc.method, e.Message)
		}
		if tc.data != "" && (e.Data == nil || string(*e.Data) != tc.data) {
			t.Errorf("%s: data %s, want %s", tc.method, dataOf(e), tc.data)
		}
	}
	var got string
	if err := c.Call(ctx, "test.notify_hello", map[string]any{}, &got); err != nil || got != "hello" {
		t.Errorf("the connection does not survive its errors: %q %v", got, err)
	}
}

func dataOf(e *jsonrpc2.Error) string {
	if e.Data == nil {
		return "<nil>"
	}
	return string(*e.Data)
}

// TestWebSocketMessages: what the Conn cannot read is answered as JSON-RPC
// over HTTP answers it, and the connection goes on.
func TestWebSocketMessages(t *testing.T) {
	s := newWSServer(t, rpc.WebSocketOptions{})
	ws, _, err := s.dial(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		msg  string
		code int64
		id   string
	}{
		{`{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":1}`, -32700, "null"},
		{"\xff", -32700, "null"},
		{``, -32700, "null"},
		{`[{"jsonrpc":"2.0","method":"test.get_data","id":1}]`, -32600, "null"},
		{`"hello"`, -32600, "null"},
		{`{"jsonrpc":"1.0","method":"test.get_data","id":2}`, -32600, "2"},
		{`{"jsonrpc":"2.0","method":1,"id":"m"}`, -32600, `"m"`},
		{`{"jsonrpc":"2.0","method":"test.get_data","params":"x","id":3}`, -32600, "3"},
		{`{"jsonrpc":"2.0","result":1,"id":4}`, -32600, "4"},
		{`{"jsonrpc":"2.0","method":"test.get_data","id":null}`, -32600, "null"},
		{`{"jsonrpc":"2.0","method":"test.get_data","id":-1}`, -32600, "-1"},
		{`{"jsonrpc":"2.0","method":"test.get_data","id":1.5}`, -32600, "1.5"},
		{`{"jsonrpc":"2.0","method":"test.get_data","id":99999999999999999999}`, -32600, "99999999999999999999"},
		{`{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":1,"minuend":2},"id":5}`, -32602, "5"},
	} {
		r := exchange(t, ws, tc.msg)
		expectError(t, r, tc.code, tc.id)
	}
	expectResult(t, exchange(t, ws, `{"jsonrpc":"2.0","method":"test.get_data","id":"s\u00e9"}`), `["hello",5]`, `"sé"`)
	expectResult(t, exchange(t, ws, `{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":3,"subtrahend":1},"id":9223372036854775807}`), `2`, "9223372036854775807")
}

// TestWebSocketNotifications: a notification runs and is never answered,
// nor is an invalid-params or unknown-method notification.
func TestWebSocketNotifications(t *testing.T) {
	s := newWSServer(t, rpc.WebSocketOptions{})
	ws, _, err := s.dial(t)
	if err != nil {
		t.Fatal(err)
	}
	before := notified.Load()
	for _, msg := range []string{
		`{"jsonrpc":"2.0","method":"test.notify_hello","params":{}}`,
		`{"jsonrpc":"2.0","method":"test.nope"}`,
		`{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":"x"}}`,
		`{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":1,"minuend":1}}`,
		`{"jsonrpc":"2.0","method":"test.notify_hello","params":{}}`,
	} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	// The next message on the connection is the reply to this request.
	expectResult(t, exchange(t, ws, `{"jsonrpc":"2.0","method":"test.get_data","id":7}`), `["hello",5]`, "7")
	// Both notifications ran (concurrently with the request: wait for them).
	for i := 0; notified.Load() < before+2; i++ {
		if i > 1000 {
			t.Fatalf("notifications ran %d times, want 2", notified.Load()-before)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWebSocketUpgrade: the credentials and X-Api-Version of the upgrade
// request are checked before upgrading; the upgrade says the version.
func TestWebSocketUpgrade(t *testing.T) {
	s := newWSServer(t, rpc.WebSocketOptions{})
	for _, tc := range []struct {
		hdr    []string
		status int
		code   string
	}{
		{[]string{"X-Api-Key", "bogus"}, 401, "-32005"},
		{[]string{"Authorization", "Basic " + "Ym9ndXM6"}, 401, "-32005"}, // bogus:
		{[]string{"X-Api-Version", "1999-01-01"}, 400, "-32602"},
	} {
		ws, resp, err := s.dial(t, tc.hdr...)
		if ws != nil || err == nil || resp == nil || resp.StatusCode != tc.status {
			t.Fatalf("%v: upgraded %v, %v", tc.hdr, ws != nil, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), tc.code) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%v: %d %s", tc.hdr, resp.StatusCode, b)
		}
		if tc.status == 400 && !strings.Contains(string(b), "X-Api-Version") {
			t.Errorf("the error does not name X-Api-Version: %s", b)
		}
	}
	for _, v := range []string{"", "legacy", "2026-11-21"} {
		var hdr []string
		if v != "" {
			hdr = []string{"X-Api-Version", v}
		}
		ws, resp, err := s.dial(t, hdr...)
		if err != nil {
			t.Fatal(err)
		}
		want := v
		if want == "" {
			want = "2026-11-21"
		}
		if got := resp.Header.Get("X-Api-Version"); got != want || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("upgrade with X-Api-Version %q answered %q (request id %q)", v, got, resp.Header.Get("X-Request-Id"))
		}
		ws.Close()
	}
	// Not an upgrade.
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "-32600") {
		t.Errorf("plain GET: %d %s", resp.StatusCode, b)
	}
}

// TestWebSocketClientClose: when the client goes, the calls it left running
// are cancelled and the handler returns.
func TestWebSocketClientClose(t *testing.T) {
	s := newWSServer(t, rpc.WebSocketOptions{})
	for _, graceful := range []bool{true, false} {
		ws, _, err := s.dial(t)
		if err != nil {
			t.Fatal(err)
		}
		s.arrived.Store(0)
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"test.block","id":1}`)); err != nil {
			t.Fatal(err)
		}
		// Once the call runs, leave.
		expectResult(t, exchange(t, ws, `{"jsonrpc":"2.0","method":"test.get_data","id":2}`), `["hello",5]`, "2")
		for i := 0; s.arrived.Load() == 0; i++ {
			if i > 1000 {
				t.Fatal("test.block never ran")
			}
			time.Sleep(time.Millisecond)
		}
		if graceful {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
			if err := ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(failsafe)); err != nil {
				t.Fatal(err)
			}
		}
		ws.Close()
		select {
		case <-s.done:
		case <-time.After(failsafe):
			t.Fatalf("graceful=%v: the handler did not return after the client left", graceful)
		}
	}
}

// TestWebSocketShutdown: the server's Shutdown closes the connections with
// 1001 (going away).
func TestWebSocketShutdown(t *testing.T) {
	s := newWSServer(t, rpc.WebSocketOptions{})
	ws, _, err := s.dial(t)
	if err != nil {
		t.Fatal(err)
	}
	expectResult(t, exchange(t, ws, `{"jsonrpc":"2.0","method":"test.get_data","id":1}`), `["hello",5]`, "1")
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	if err := s.Config.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(failsafe))
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("after shutdown: %v, want close 1001", err)
	}
	select {
	case <-s.done:
	case <-time.After(failsafe):
		t.Fatal("the handler did not return after shutdown")
	}
}

// TestWebSocketMessageLimit: a message over the limit closes the connection
// with 1009 (message too big).
func TestWebSocketMessageLimit(t *testing.T) {
	s := newWSServer(t, rpc.WebSocketOptions{MaxMessageBytes: 1024})
	ws, _, err := s.dial(t)
	if err != nil {
		t.Fatal(err)
	}
	big := fmt.Sprintf(`{"jsonrpc":"2.0","method":"test.echo","params":{"value":%q},"id":1}`, strings.Repeat("x", 2048))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(failsafe))
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("over the limit: %v, want close 1009", err)
	}
}

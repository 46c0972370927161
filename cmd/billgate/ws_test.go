package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/billgate/billgate/service"
)

// wsRaw opens a connection to exchange raw messages.
func (s *server) wsRaw(t *testing.T, a auth) (*websocket.Conn, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/ws", nil)
	a.apply(req)
	d := websocket.Dialer{HandshakeTimeout: wsFailsafe}
	ws, resp, err := d.DialContext(t.Context(), "ws"+strings.TrimPrefix(s.URL, "http")+"/ws", req.Header)
	if err != nil {
		t.Fatalf("dial /ws: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, resp
}

func wsRead(t *testing.T, ws *websocket.Conn) rpcReply {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(wsFailsafe))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var r rpcReply
	if err := json.Unmarshal(b, &r); err != nil || r.JSONRPC != "2.0" {
		t.Fatalf("not a JSON-RPC reply: %s", b)
	}
	return r
}

// scrapeMetric returns the value of the metric line starting with name (-1 if absent).
func scrapeMetric(t *testing.T, s *server, name string) float64 {
	t.Helper()
	status, _, body := s.raw(t, auth{}, "GET", "/metrics", "", nil)
	if status != 200 {
		t.Fatalf("GET /metrics: %d", status)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return -1
}

// TestWebSocket: JSON-RPC over WebSocket on the booted server: many calls in
// flight on one connection, replies matched by id; credentials of the
// upgrade request (refused with 401 when the key is bad, checked again by
// every call); notifications; connections that end leave nothing behind.
func TestWebSocket(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		ad := keyAuth(adminKey)
		ids := make([]int64, 20)
		for i := range ids {
			var r idOnly
			s.ok(t, ad, "resellers.create", map[string]any{"name": fmt.Sprintf("ws reseller %d", i)}, &r)
			ids[i] = r.ID
		}

		t.Run("concurrent calls", func(t *testing.T) {
			c, _ := s.wsDial(t, ad)
			ctx, cancel := context.WithTimeout(t.Context(), wsFailsafe)
			defer cancel()
			const n = 200
			waiters := make([]jsonrpc2.Waiter, n)
			for i := range n { // all in flight before the first reply is read
				method, params := "resellers.get", map[string]any{"id": ids[i%len(ids)]}
				if i%7 == 0 {
					method, params = "resellers.count", map[string]any{"id": ids[:i%len(ids)+1]}
				}
				w, err := c.conn.DispatchCall(ctx, method, params)
				if err != nil {
					t.Fatal(err)
				}
				waiters[i] = w
			}
			for i, w := range waiters {
				var got struct {
					ID    int64 `json:"id"`
					Count int64 `json:"count"`
				}
				if err := w.Wait(ctx, &got); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if i%7 == 0 && got.Count != int64(i%len(ids)+1) || i%7 != 0 && got.ID != ids[i%len(ids)] {
					t.Errorf("call %d got %+v: a reply for another request", i, got)
				}
			}
		})

		t.Run("credentials", func(t *testing.T) {
			for _, bad := range []auth{keyAuth("live_doesnotexist0000000000000000"), {basic: "bogus"}} {
				c, refused := s.wsDial(t, bad)
				if c != nil || refused.Status != http.StatusUnauthorized || refused.Err.Code != -32005 {
					t.Errorf("bad key %+v: upgraded=%v %d %+v", bad, c != nil, refused.Status, refused.Err)
				}
			}
			anon, _ := s.wsDial(t, auth{})
			wantCode(t, anon.call(t, "iam.users.get", map[string]any{"id": 1}), "unauthenticated", "no credentials")
			if r := anon.call(t, "system.version", map[string]any{}); r.Err != nil {
				t.Errorf("public method without credentials: %+v", r.Err)
			}
			// Each call authenticates: a key revoked on an open connection stops working.
			var k keyReply
			s.ok(t, ad, "iam.api_keys.create", map[string]any{"users_id": 1}, &k)
			c, _ := s.wsDial(t, keyAuth(k.Key))
			if r := c.call(t, "iam.users.get", map[string]any{"id": 1}); r.Err != nil {
				t.Fatalf("fresh key: %+v", r.Err)
			}
			s.ok(t, ad, "iam.api_keys.delete", map[string]any{"id": k.ID}, nil)
			wantCode(t, c.call(t, "iam.users.get", map[string]any{"id": 1}), "unauthenticated", "revoked key on an open connection")
			// X-Reseller narrows every call of the connection.
			nar, _ := s.wsDial(t, auth{key: adminKey, header: map[string]string{"X-Reseller": itoa64(ids[0])}})
			wantNotFound(t, nar.call(t, "resellers.get", map[string]any{"id": ids[1]}), "a sibling through X-Reseller")
		})

		t.Run("notifications", func(t *testing.T) {
			ws, _ := s.wsRaw(t, ad)
			for _, msg := range []string{
				`{"jsonrpc":"2.0","method":"resellers.update","params":{"id":` + itoa64(ids[3]) + `,"name":"renamed by a notification"}}`,
				`{"jsonrpc":"2.0","method":"resellers.nope","params":{}}`,
				`{"jsonrpc":"2.0","method":"resellers.get","params":{"id":999999}}`,
			} {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
					t.Fatal(err)
				}
			}
			// The next message is the reply to this request: notifications get none.
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"iam.users.search","params":{},"id":"after"}`)); err != nil {
				t.Fatal(err)
			}
			if r := wsRead(t, ws); string(r.ID) != `"after"` || r.Error != nil {
				t.Fatalf("first reply: id %s error %+v", r.ID, r.Error)
			}
			// The notification ran (concurrently with the request: wait for it).
			for i := 0; ; i++ {
				var r struct {
					Name string `json:"name"`
				}
				s.ok(t, ad, "resellers.get", map[string]any{"id": ids[3]}, &r)
				if r.Name == "renamed by a notification" {
					break
				}
				if i > 500 {
					t.Fatal("the notification never ran")
				}
				time.Sleep(5 * time.Millisecond)
			}
			// Messages the connection cannot run are answered; it goes on.
			for msg, want := range map[string]string{
				`[{"jsonrpc":"2.0","method":"system.version","id":1}]`:                    `-32600 null`,
				`{"jsonrpc":"2.0","method":"system.version","id":null}`:                   `-32600 null`,
				`{"jsonrpc":"2.0","method":"resellers.get","params":[1],"id":2}`:          `-32602 2`,
				`{"jsonrpc":"2.0","method":"resellers.get","params":{"id":1}`:             `-32700 null`,
				`{"jsonrpc":"2.0","method":"resellers.get","params":{"id":"x"},"id":"x"}`: `-32602 "x"`,
			} {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
					t.Fatal(err)
				}
				r := wsRead(t, ws)
				if r.Error == nil || fmt.Sprintf("%d %s", r.Error.Code, r.ID) != want {
					t.Errorf("%s: %+v id %s, want %s", msg, r.Error, r.ID, want)
				}
			}
		})

		t.Run("connections end cleanly", func(t *testing.T) {
			for range 10 {
				c, _ := s.wsDial(t, ad)
				c.call(t, "system.version", map[string]any{})
				c.close()
			}
			ws, _ := s.wsRaw(t, ad)
			ws.Close() // without a close frame
			// Every WebSocket handler has returned: only GET /metrics is in flight.
			for i := 0; scrapeMetric(t, s, "billgate_http_requests_in_flight") != 1; i++ {
				if i > 500 {
					t.Fatalf("%v requests still in flight", scrapeMetric(t, s, "billgate_http_requests_in_flight"))
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	})
}

// TestWebSocketJWT: a JWT session over WebSocket is deprecated like on the
// other transports (headers of the upgrade response), and its calls count in
// the per-user JWT metric with those of REST and JSON-RPC.
func TestWebSocketJWT(t *testing.T) {
	s := startServer(t, "sqlite://"+t.TempDir()+"/jwt.db", nil)
	var u idOnly
	login := uniq("jwt")
	s.ok(t, keyAuth(adminKey), "iam.users.create", map[string]any{"login": login, "password": "jwt-pass-1"}, &u)
	var tok struct {
		Token string `json:"token"`
	}
	s.ok(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": login, "password": "jwt-pass-1"}, &tok)
	bearer := auth{bearer: tok.Token}
	rest := s.rest(t, bearer, methodNamed(t, "iam.users.get"), map[string]any{"id": u.ID})
	rpc := s.rpc(t, bearer, "iam.users.get", map[string]any{"id": u.ID})
	c, up := s.wsDial(t, bearer)
	for name, r := range map[string]reply{"REST": rest, "JSON-RPC": rpc, "WebSocket upgrade": up} {
		if r.Err != nil || r.Header.Get("Deprecation") != "true" || r.Header.Get("Link") != `</docs>; rel="deprecation"` {
			t.Errorf("%s with a JWT: %+v Deprecation %q Link %q", name, r.Err, r.Header.Get("Deprecation"), r.Header.Get("Link"))
		}
	}
	for range 2 {
		if r := c.call(t, "iam.users.get", map[string]any{"id": u.ID}); r.Err != nil {
			t.Fatalf("JWT call over WebSocket: %+v", r.Err)
		}
	}
	if n := scrapeMetric(t, s, `billgate_jwt_calls_total{user_id="`+itoa64(u.ID)+`"}`); n != 4 {
		t.Errorf("JWT calls of user %d: %v, want 4 (1 REST, 1 JSON-RPC, 2 WebSocket)", u.ID, n)
	}
	// An API key's upgrade is not deprecated.
	if _, up := s.wsDial(t, keyAuth(adminKey)); up.Header.Get("Deprecation") != "" {
		t.Errorf("API key upgrade deprecated: %v", up.Header)
	}
}

func methodNamed(t *testing.T, name string) *service.Method {
	t.Helper()
	m, ok := registry(t).Lookup(name)
	if !ok {
		t.Fatalf("no method %s", name)
	}
	return m
}

// TestWebSocketServerShutdown: stopping the server closes its WebSocket
// connections with 1001 (going away), and the program exits cleanly.
func TestWebSocketServerShutdown(t *testing.T) {
	s := startServer(t, "sqlite://"+t.TempDir()+"/shutdown.db", nil)
	ws, resp := s.wsRaw(t, keyAuth(adminKey))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("X-Api-Version") != "2026-11-21" {
		t.Fatalf("upgrade: %d %v", resp.StatusCode, resp.Header)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"system.version","id":1}`)); err != nil {
		t.Fatal(err)
	}
	if r := wsRead(t, ws); r.Error != nil {
		t.Fatal(r.Error)
	}
	s.cancel() // SIGTERM; the test's cleanup checks that run returns nil
	ws.SetReadDeadline(time.Now().Add(wsFailsafe))
	_, _, err := ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("after shutdown: %v, want close 1001", err)
	}
}

// TestWebSocketUpgradeRefusals: what is not a WebSocket upgrade, or asks for
// an unknown version, is refused in the API's error shape.
func TestWebSocketUpgradeRefusals(t *testing.T) {
	s := startServer(t, "sqlite://"+t.TempDir()+"/refusals.db", nil)
	status, _, body := s.raw(t, keyAuth(adminKey), "GET", "/ws", "", nil)
	if status != 400 || !strings.Contains(string(body), "-32600") {
		t.Errorf("GET /ws without upgrade: %d %s", status, body)
	}
	c, refused := s.wsDial(t, auth{key: adminKey, header: map[string]string{"X-Api-Version": "v2"}})
	if c != nil || refused.Status != 400 || refused.Err.Code != -32602 || refused.Err.field("X-Api-Version") == "" {
		t.Errorf("unknown version: %d %+v", refused.Status, refused.Err)
	}
	req, _ := http.NewRequest("GET", s.URL+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Origin", "https://elsewhere.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a browser page of another origin: %d, want 403", resp.StatusCode)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sourcegraph/jsonrpc2"
	wsstream "github.com/sourcegraph/jsonrpc2/websocket"
)

// wsFailsafe bounds every WebSocket wait of the tests: reaching it is a
// failure (a hang), never a measurement.
const wsFailsafe = 30 * time.Second

// wsClient is a JSON-RPC client over one WebSocket connection to the server
// (GET /ws), as an integration would use it: gorilla/websocket and
// jsonrpc2.Conn.
type wsClient struct {
	ws   *websocket.Conn
	conn *jsonrpc2.Conn
	// Header is the upgrade response's (X-Api-Version, Deprecation…).
	Header http.Header
}

// wsDial opens a connection authenticated as a. When the server refuses the
// upgrade it returns nil and the refusal as a reply (HTTP status and error).
func (s *server) wsDial(t *testing.T, a auth) (*wsClient, reply) {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	a.apply(req)
	d := websocket.Dialer{HandshakeTimeout: wsFailsafe}
	ws, resp, err := d.DialContext(t.Context(), "ws"+strings.TrimPrefix(s.URL, "http")+"/ws", req.Header)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial /ws: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var env struct {
			Error *rpcError `json:"error"`
		}
		if json.Unmarshal(b, &env) != nil || env.Error == nil {
			t.Fatalf("upgrade refused with %d %q: not a JSON-RPC error", resp.StatusCode, b)
		}
		return nil, reply{Status: resp.StatusCode, Header: resp.Header, Err: env.Error}
	}
	c := &wsClient{ws: ws, Header: resp.Header}
	c.conn = jsonrpc2.NewConn(context.Background(), wsstream.NewObjectStream(ws), noServerCalls{}, jsonrpc2.SetLogger(log.New(io.Discard, "", 0)))
	t.Cleanup(c.close)
	return c, reply{Status: resp.StatusCode, Header: resp.Header}
}

type noServerCalls struct{}

func (noServerCalls) Handle(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request) {}

// close ends the connection as a client should: a close frame, then closing.
func (c *wsClient) close() {
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = c.conn.Close()
}

// call makes one call on the connection.
func (c *wsClient) call(t *testing.T, method string, params any) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wsFailsafe)
	defer cancel()
	var res json.RawMessage
	err := c.conn.Call(ctx, method, params, &res)
	return c.reply(t, method, res, err)
}

func (c *wsClient) reply(t *testing.T, method string, res json.RawMessage, err error) reply {
	t.Helper()
	r := reply{Status: http.StatusSwitchingProtocols, Header: c.Header}
	if err != nil {
		var e *jsonrpc2.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s over WebSocket: %v", method, err)
		}
		r.Err = &rpcError{Code: e.Code, Message: e.Message}
		if e.Data != nil {
			r.Err.Data = *e.Data
		}
		return r
	}
	r.Result = res
	return r
}

// ws calls one method over a new WebSocket connection (the refusal of the
// upgrade, if any, is the reply).
func (s *server) ws(t *testing.T, a auth, method string, params any) reply {
	t.Helper()
	c, refused := s.wsDial(t, a)
	if c == nil {
		return refused
	}
	defer c.close()
	return c.call(t, method, params)
}

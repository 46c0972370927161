package rpc

// JSON-RPC 2.0 over WebSocket (GET /ws). A connection is served by
// sourcegraph/jsonrpc2's Conn over its WebSocket ObjectStream (gorilla), with
// the same registry, the same method middleware (svc.Invoke) and the same
// call path as the HTTP handler (handler.call: rpc.* names, params by name).
//
// What the Conn does not do is done around it:
//   - Messages are checked before the Conn sees them (wsStream.ReadObject),
//     with the HTTP handler's envelope parser. The Conn closes the whole
//     connection on a message it cannot decode; we answer it instead, as
//     JSON-RPC over HTTP would: -32700 for bytes that are not JSON, -32600
//     for an invalid request object (or a batch: one request per message),
//     -32602 for duplicate params.
//   - jsonrpc2.Request decodes "id": null as "no id", so the Conn would run
//     such a request as a notification and never answer it (the
//     specification says it is a request, answered with "id": null). It
//     also keeps numeric ids as uint64, so -1 or 1.5 would not come back as
//     sent. Both are answered with -32600 (and the id as sent) and not run:
//     over WebSocket an id is a string or a non-negative integer.
//   - Calls run concurrently (jsonrpc2.AsyncHandler), at most Concurrency at
//     once per connection; further requests wait, and the connection is not
//     read meanwhile (backpressure). Replies carry the request's id and are
//     sent as calls finish, in any order.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/sourcegraph/jsonrpc2"
	wsstream "github.com/sourcegraph/jsonrpc2/websocket"

	"github.com/billgate/billgate/service"
)

// Defaults of WebSocketOptions.
const (
	DefaultPingInterval = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
)

// WebSocketOptions configure NewWebSocketHandler. Zero values take the defaults.
type WebSocketOptions struct {
	// MaxMessageBytes bounds one message (default DefaultMaxBodyBytes, as the
	// HTTP body): a larger one closes the connection with 1009 (message too big).
	MaxMessageBytes int64
	// Concurrency bounds the calls running at once on one connection
	// (default DefaultConcurrency).
	Concurrency int
	// PingInterval is how often the server pings; a peer silent for two
	// intervals (no pong, no message) is disconnected. Default 30s.
	PingInterval time.Duration
	// WriteTimeout bounds one write to the peer (default 10s); a peer that
	// does not read is disconnected.
	WriteTimeout time.Duration
	// Logger receives failures of the transport itself. Default: discard.
	Logger *slog.Logger
}

// WebSocketHandler serves JSON-RPC 2.0 over WebSocket; see NewWebSocketHandler.
type WebSocketHandler struct {
	svc      *service.Service
	calls    *handler // the HTTP handler, for its call path and error replies
	opts     WebSocketOptions
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu      sync.Mutex
	conns   map[*wsConn]struct{}
	closing bool
	servers map[*http.Server]bool // those whose shutdown closes our connections
}

// NewWebSocketHandler returns the handler of GET /ws: a WebSocket connection
// carrying JSON-RPC 2.0 requests (one per message) and their replies.
// Credentials, X-Reseller and X-Api-Version are read from the upgrade
// request's headers (service.CredentialsFromHTTP) and hold for every call of
// the connection; each call authenticates anew, so a revoked key or an
// expired JWT stops working on an open connection too. The upgrade is refused
// with HTTP 401 for an invalid API key, 400 for an unknown X-Api-Version or a
// request that is not a WebSocket upgrade, 503 while the server shuts down;
// the body is a JSON-RPC error as over HTTP. The upgrade response carries
// X-Api-Version (and Deprecation and Link for a JWT session).
//
// When the http.Server serving it shuts down, every connection is closed
// with 1001 (going away); calls still running are cancelled. A connection
// closed by the client ends its calls the same way; ServeHTTP returns once
// they have.
func NewWebSocketHandler(svc *service.Service, opts WebSocketOptions) *WebSocketHandler {
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxBodyBytes
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	calls := NewHandler(svc, Options{MaxBodyBytes: opts.MaxMessageBytes, Logger: log}).(*handler)
	return &WebSocketHandler{
		svc: svc, calls: calls, opts: opts, log: log,
		// CheckOrigin nil: gorilla's default refuses a browser page of another
		// origin, so a browser's cached Basic credentials cannot be used
		// across sites. Clients that are not browsers send no Origin.
		upgrader: websocket.Upgrader{HandshakeTimeout: opts.WriteTimeout},
		conns:    map[*wsConn]struct{}{},
		servers:  map[*http.Server]bool{},
	}
}

// ServeHTTP upgrades the request and serves the connection until it closes.
func (h *WebSocketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := r.Header.Get("X-Request-Id")
	if reqID == "" {
		reqID = rand.Text()
	}
	w.Header().Set("X-Request-Id", reqID)
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		h.calls.fail(w, http.StatusMethodNotAllowed, invalidRequest("a WebSocket upgrade is a GET, not "+r.Method))
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		h.calls.fail(w, http.StatusBadRequest, invalidRequest("GET /ws expects a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)"))
		return
	}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok {
		h.closeOnShutdown(srv)
	}
	ctx := r.Context()
	creds := service.CredentialsFromHTTP(r)
	sess := service.NewSession(service.ProtoWS, reqID, creds)
	if creds.APIKey != "" || creds.Bearer != "" {
		// As over HTTP, a bad API key refuses the whole request; any other
		// problem with the credentials is reported by each call. A JWT
		// session's Deprecation headers go on the upgrade response.
		if _, err := h.svc.Principal(ctx, sess); creds.APIKey != "" && service.CodeOf(err) == service.CodeUnauthenticated {
			h.calls.fail(w, http.StatusUnauthorized, service.AsError(err))
			return
		}
	}
	version, err := h.svc.APIVersionOf(ctx, sess)
	if err != nil {
		h.calls.fail(w, http.StatusBadRequest, service.AsError(err))
		return
	}
	hdr := http.Header{}
	sess.CopyHeaders(hdr)
	hdr.Set(service.HeaderAPIVersion, version)
	hdr.Set("X-Request-Id", reqID)
	if h.isClosing() {
		h.calls.fail(w, http.StatusServiceUnavailable, &service.Error{Code: service.CodeUnavailable, Message: "the server is shutting down"})
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, hdr)
	if err != nil {
		return // the upgrader has answered (400 or 403 for a bad handshake)
	}
	h.serve(ctx, ws, creds, reqID)
}

// wsConn is one open connection.
type wsConn struct {
	ws  *websocket.Conn
	rpc *jsonrpc2.Conn
}

// serve runs the connection until it is closed, then waits for its calls.
func (h *WebSocketHandler) serve(ctx context.Context, ws *websocket.Conn, creds service.Credentials, reqID string) {
	ws.SetReadLimit(h.opts.MaxMessageBytes)
	pongWait := 2 * h.opts.PingInterval
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })
	stream := &wsStream{ws: ws, inner: wsstream.NewObjectStream(ws), h: h, pongWait: pongWait, reqID: reqID}
	calls := &wsCalls{h: h, creds: creds, reqID: reqID, sem: make(chan struct{}, h.opts.Concurrency)}
	calls.async = jsonrpc2.AsyncHandler(calls)
	c := &wsConn{ws: ws}
	c.rpc = jsonrpc2.NewConn(ctx, stream, (*wsLimiter)(calls), jsonrpc2.SetLogger(connLogger{h.log, reqID}))
	if !h.track(c) { // the server began shutting down meanwhile
		h.goAway(c)
	}
	go h.ping(c)
	<-c.rpc.DisconnectNotify()
	calls.mu.Lock()
	calls.closed = true
	calls.mu.Unlock()
	calls.wg.Wait()
	h.untrack(c)
}

// ping pings the peer every PingInterval until the connection closes.
func (h *WebSocketHandler) ping(c *wsConn) {
	t := time.NewTicker(h.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.rpc.DisconnectNotify():
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.opts.WriteTimeout)); err != nil {
				_ = c.rpc.Close()
				return
			}
		}
	}
}

func (h *WebSocketHandler) track(c *wsConn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns[c] = struct{}{}
	return !h.closing
}

func (h *WebSocketHandler) untrack(c *wsConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
}

func (h *WebSocketHandler) isClosing() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closing
}

// closeOnShutdown makes srv's Shutdown close the connections: net/http does
// not track hijacked connections, RegisterOnShutdown is its hook for them.
func (h *WebSocketHandler) closeOnShutdown(srv *http.Server) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.servers[srv] {
		h.servers[srv] = true
		srv.RegisterOnShutdown(h.Shutdown)
	}
}

// Shutdown refuses new connections and closes the open ones with 1001
// (going away); their running calls are cancelled. The http.Server serving
// the handler calls it on Shutdown.
func (h *WebSocketHandler) Shutdown() {
	h.mu.Lock()
	h.closing = true
	conns := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		h.goAway(c)
	}
}

func (h *WebSocketHandler) goAway(c *wsConn) {
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(h.opts.WriteTimeout))
	_ = c.rpc.Close()
}

// wsCalls runs the requests of one connection through the service.
type wsCalls struct {
	h     *WebSocketHandler
	creds service.Credentials
	reqID string
	seq   atomic.Int64
	sem   chan struct{}
	async jsonrpc2.Handler // AsyncHandler(this)

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// wsLimiter is the Conn's handler: it waits for a free slot (holding up the
// connection's reads), then hands the request to the AsyncHandler.
type wsLimiter wsCalls

func (l *wsLimiter) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	c := (*wsCalls)(l)
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.sem
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	c.async.Handle(ctx, conn, req)
}

// Handle runs one request on its own goroutine and replies unless it is a
// notification.
func (c *wsCalls) Handle(ctx context.Context, conn *jsonrpc2.Conn, r *jsonrpc2.Request) {
	defer func() {
		<-c.sem
		c.wg.Done()
	}()
	defer func() {
		// The service recovers the panics of methods; this catches the
		// transport's own, which would otherwise end the process.
		if p := recover(); p != nil {
			c.h.log.ErrorContext(ctx, "rpc ws: panic", "request_id", c.reqID, "method", r.Method, "panic", fmt.Sprint(p))
			if !r.Notif {
				c.replyError(ctx, conn, r.ID, errInternalReply)
			}
		}
	}()
	sess := service.NewSession(service.ProtoWS, c.reqID+"."+strconv.FormatInt(c.seq.Add(1), 10), c.creds)
	req := request{method: r.Method, notify: r.Notif}
	if r.Params != nil {
		req.params = *r.Params
	}
	o := c.h.calls.call(ctx, sess, &req)
	if r.Notif {
		return
	}
	if o.err != nil {
		c.replyError(ctx, conn, r.ID, o.err)
		return
	}
	b, merr := json.Marshal(o.res)
	if merr != nil {
		c.h.log.ErrorContext(ctx, "rpc ws: cannot encode result", "request_id", sess.RequestID, "method", r.Method, "err", merr)
		c.replyError(ctx, conn, r.ID, errInternalReply)
		return
	}
	if err := conn.Reply(ctx, r.ID, json.RawMessage(b)); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		c.h.log.DebugContext(ctx, "rpc ws: reply not sent", "request_id", sess.RequestID, "err", err)
	}
}

// replyError sends e as a jsonrpc2.Error: the API's numeric code and its
// data member, never the cause.
func (c *wsCalls) replyError(ctx context.Context, conn *jsonrpc2.Conn, id jsonrpc2.ID, e *service.Error) {
	obj := &jsonrpc2.Error{Code: e.Code.Number(), Message: e.Message}
	obj.SetError(e.Data())
	if err := conn.ReplyWithError(ctx, id, obj); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		c.h.log.DebugContext(ctx, "rpc ws: reply not sent", "request_id", c.reqID, "err", err)
	}
}

// wsStream is the Conn's ObjectStream: jsonrpc2's WebSocket ObjectStream for
// writes, and reads that check every message first (see the top of this
// file), answering the ones the Conn must not see.
type wsStream struct {
	ws       *websocket.Conn
	inner    wsstream.ObjectStream
	h        *WebSocketHandler
	pongWait time.Duration
	reqID    string

	wmu sync.Mutex // one writer at a time: the Conn's replies and ours
}

// WriteObject sends one message. A failed write (a peer that does not read
// within WriteTimeout) leaves the WebSocket unusable: it is closed.
func (s *wsStream) WriteObject(obj any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(s.h.opts.WriteTimeout))
	if err := s.inner.WriteObject(obj); err != nil {
		_ = s.ws.Close()
		return err
	}
	return nil
}

func (s *wsStream) writeRaw(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(s.h.opts.WriteTimeout))
	if err := s.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		_ = s.ws.Close()
		return err
	}
	return nil
}

// Close closes the WebSocket.
func (s *wsStream) Close() error { return s.inner.Close() }

// ReadObject reads the next message that is a valid request into v,
// answering the others.
func (s *wsStream) ReadObject(v any) error {
	for {
		_ = s.ws.SetReadDeadline(time.Now().Add(s.pongWait))
		_, r, err := s.ws.NextReader()
		if err != nil {
			return s.readErr(err)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return s.readErr(err)
		}
		reply, ok := s.check(data)
		if ok {
			if err := json.Unmarshal(data, v); err == nil {
				return nil
			}
			reply = s.errorReply(requestID(data), invalidRequest("the message is not a request the server can read"))
		}
		if reply != nil {
			if err := s.writeRaw(reply); err != nil {
				return err
			}
		}
	}
}

// readErr ends the Conn's read loop. The ways a connection usually ends are
// io.EOF, so that the Conn does not log them as protocol errors.
func (s *wsStream) readErr(err error) error {
	var netErr net.Error
	switch {
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway,
		websocket.CloseNoStatusReceived, websocket.CloseAbnormalClosure):
		return io.EOF // the client left, with or without a close frame
	case errors.Is(err, websocket.ErrReadLimit):
		s.h.log.Info("rpc ws: message over the size limit: connection closed", "request_id", s.reqID, "limit", s.h.opts.MaxMessageBytes)
		return io.EOF
	case errors.As(err, &netErr) && netErr.Timeout():
		s.h.log.Info("rpc ws: peer silent (no pong): connection closed", "request_id", s.reqID)
		return io.EOF
	}
	return err
}

// wsIDRe is what an id can be over WebSocket besides a string (see the top).
var wsIDRe = regexp.MustCompile(`^(0|[1-9][0-9]{0,18})$`)

// Errors of WebSocket messages.
var (
	errWSBatch  = invalidRequest("batches are not supported over WebSocket: send each request as its own message")
	errWSTop    = invalidRequest("a message must be a request object")
	errWSNullID = invalidRequest(`"id": null is not supported over WebSocket: use a string or a non-negative integer, or no id for a notification`)
	errWSNumID  = invalidRequest(`over WebSocket a numeric "id" must be a non-negative integer (or use a string)`)
)

// check validates one message. It returns ok for a request to hand to the
// Conn; otherwise the reply to send (nil: nothing, for a notification).
func (s *wsStream) check(data []byte) (reply []byte, ok bool) {
	if !utf8.Valid(data) {
		return s.errorReply(nil, errParseUTF8), false
	}
	if !json.Valid(data) {
		return s.errorReply(nil, errParseJSON), false
	}
	i := skipSpace(data, 0)
	v := data[i:skipValue(data, i)]
	switch v[0] {
	case '[':
		return s.errorReply(nil, errWSBatch), false
	case '{':
	default:
		return s.errorReply(nil, errWSTop), false
	}
	req := parseRequest(v, s.h.calls.names)
	switch {
	case req.err != nil:
		return s.errorReply(req.id, req.err), false
	case req.id != nil && req.id[0] == 'n':
		return s.errorReply(req.id, errWSNullID), false
	case req.id != nil && req.id[0] != '"':
		if n := wsIDRe.Find(req.id); n == nil || !fitsInt64(req.id) {
			return s.errorReply(req.id, errWSNumID), false
		}
	}
	if req.params != nil && req.params[0] == '{' {
		// The Conn re-encodes params through a map, which would hide a
		// duplicate parameter: report it here, as over HTTP.
		if _, perr := parseArgs(req.params); perr != nil {
			if req.notify {
				return nil, false
			}
			return s.errorReply(req.id, perr), false
		}
	}
	return nil, true
}

func fitsInt64(b []byte) bool {
	_, err := strconv.ParseInt(string(b), 10, 64)
	return err == nil
}

// requestID returns the raw id of a request object, if it has a usable one.
func requestID(data []byte) []byte {
	i := skipSpace(data, 0)
	req := parseRequest(data[i:skipValue(data, i)], nil)
	return req.id
}

func (s *wsStream) errorReply(id []byte, e *service.Error) []byte {
	b := getBuffer()
	defer putBuffer(b)
	b.writeError(id, e)
	return append([]byte(nil), b.Bytes()...)
}

// connLogger sends the Conn's own messages (protocol errors) to the log.
type connLogger struct {
	log   *slog.Logger
	reqID string
}

func (l connLogger) Printf(format string, v ...any) {
	l.log.Warn("rpc ws: "+fmt.Sprintf(format, v...), "request_id", l.reqID)
}

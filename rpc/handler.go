// Package rpc serves the service's method registry as JSON-RPC 2.0 over HTTP
// (POST /, one request or a batch per body), following the specification at
// https://www.jsonrpc.org/specification and API.md §1 and §4.
//
// The package parses envelopes itself: the bytes of every id are echoed back
// exactly, batches run concurrently under a per-request bound, and replies
// keep request order. It holds no per-method code: every call goes through
// (*service.Service).Invoke.
package rpc

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/billgate/billgate/service"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 5 << 20
	DefaultMaxBatch     = 1000
	DefaultConcurrency  = 8
)

// Options configure the handler. Zero values take the defaults.
type Options struct {
	// MaxBodyBytes bounds the request body (default 5 MiB): a larger body gets
	// HTTP 413 with a too_large (-32008) error.
	MaxBodyBytes int64
	// MaxBatch bounds the elements of a batch (default 1000): a larger batch
	// gets a single invalid_request (-32600) "batch too large".
	MaxBatch int
	// Concurrency bounds how many elements of one batch run at once (default 8).
	Concurrency int
	// Logger receives failures of the transport itself (panics, results that
	// cannot be encoded). Calls are logged by the service. Default: discard.
	Logger *slog.Logger
	// OnBatch, when set, is told the number of elements of every batch that
	// runs (for metrics). It must be safe for concurrent use.
	OnBatch func(n int)
}

// handler is the http.Handler returned by NewHandler.
type handler struct {
	svc  *service.Service
	opts Options
	log  *slog.Logger
	// names interns the registered method names, so that decoding a known
	// method name does not allocate.
	names map[string]string
	// tooLarge and batchTooLarge are the limit errors, built once.
	tooLarge      *service.Error
	batchTooLarge *service.Error
}

// NewHandler returns a plain net/http handler serving svc's methods as
// JSON-RPC 2.0. Every call goes through svc.Invoke with a session built from
// the HTTP request; its errors become JSON-RPC errors with HTTP 200 (codes
// from service.Code.Number). The transport's own HTTP errors are 401 for an
// invalid API key (-32005), 405 for a method other than POST, 413 for a body
// over MaxBodyBytes (-32008), and 400 when the body cannot be read; each
// carries a JSON-RPC error body with "id":null. A body whose requests are all
// notifications gets HTTP 204 and no body.
func NewHandler(svc *service.Service, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, opts: opts, log: log, names: map[string]string{}}
	for _, m := range svc.Registry().Methods() {
		h.names[m.Name] = m.Name
	}
	h.tooLarge = &service.Error{Code: service.CodeTooLarge,
		Message: fmt.Sprintf("request body too large: at most %d bytes", opts.MaxBodyBytes)}
	h.batchTooLarge = invalidRequest(fmt.Sprintf("batch too large: at most %d elements", opts.MaxBatch))
	return h
}

// ServeHTTP answers one HTTP request.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := r.Header.Get("X-Request-Id")
	if reqID == "" {
		reqID = rand.Text()
	}
	hdr := w.Header()
	hdr["X-Request-Id"] = []string{reqID}
	if r.Method != http.MethodPost {
		hdr["Allow"] = []string{http.MethodPost}
		h.fail(w, http.StatusMethodNotAllowed, invalidRequest("JSON-RPC requests must be sent with POST, not "+r.Method))
		return
	}
	ctx := r.Context()
	sess := service.NewSession(service.ProtoJSONRPC, reqID, service.CredentialsFromHTTP(r))
	if sess.Creds.APIKey != "" {
		// A bad API key fails the whole HTTP request; any other problem with the
		// credentials (or a JWT) is reported per call by the service.
		if _, err := h.svc.Principal(ctx, sess); service.CodeOf(err) == service.CodeUnauthenticated {
			h.fail(w, http.StatusUnauthorized, service.AsError(err))
			return
		}
	}
	bp := bodyPool.Get().(*[]byte)
	defer putBody(bp)
	body, err := h.readBody(w, r, (*bp)[:0])
	*bp = body
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.fail(w, http.StatusRequestEntityTooLarge, h.tooLarge)
		} else {
			h.fail(w, http.StatusBadRequest, &service.Error{Code: service.CodeParseError, Message: "parse error: cannot read the request body"})
		}
		return
	}
	out := getBuffer()
	defer putBuffer(out)
	replies := h.serve(ctx, sess, body, out)
	sess.CopyHeaders(hdr)
	if replies == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	hdr["Content-Type"] = []string{"application/json"}
	hdr["Content-Length"] = []string{strconv.Itoa(out.Len())}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
}

// serve parses body, runs its calls and writes the reply (a single object or
// an array) to out. It returns the number of replies written.
func (h *handler) serve(ctx context.Context, sess *service.Session, body []byte, out *buffer) int {
	if !utf8.Valid(body) {
		out.writeError(nil, errParseUTF8)
		return 1
	}
	if !json.Valid(body) {
		out.writeError(nil, errParseJSON)
		return 1
	}
	i := skipSpace(body, 0)
	v := body[i:skipValue(body, i)]
	switch v[0] {
	case '{':
		req := parseRequest(v, h.names)
		if h.run(ctx, sess, &req, out) {
			return 1
		}
		return 0
	case '[':
		return h.batch(ctx, sess, v, out)
	}
	out.writeError(nil, errTopLevel)
	return 1
}

// readBody reads the request body into buf, failing with an
// *http.MaxBytesError beyond MaxBodyBytes.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request, buf []byte) ([]byte, error) {
	max := h.opts.MaxBodyBytes
	if r.ContentLength > max {
		return buf, &http.MaxBytesError{Limit: max}
	}
	if n := int(r.ContentLength) + readSlack; r.ContentLength > 0 && n > cap(buf) {
		buf = make([]byte, 0, n)
	}
	body := http.MaxBytesReader(w, r.Body, max)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// readSlack is the slack given to a body buffer beyond the Content-Length, so
// that the final read (which only reports EOF) does not grow it.
const readSlack = 512

// fail answers the whole HTTP request with status and a single error reply.
func (h *handler) fail(w http.ResponseWriter, status int, e *service.Error) {
	b := getBuffer()
	defer putBuffer(b)
	b.writeError(nil, e)
	hdr := w.Header()
	hdr["Content-Type"] = []string{"application/json"}
	hdr["Content-Length"] = []string{strconv.Itoa(b.Len())}
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// maxPooled is the capacity beyond which buffers are left to the garbage
// collector instead of going back to their pool.
const maxPooled = 64 << 10

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func putBody(bp *[]byte) {
	if cap(*bp) <= maxPooled {
		*bp = (*bp)[:0]
		bodyPool.Put(bp)
	}
}

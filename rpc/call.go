package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/billgate/billgate/service"
)

// batch runs the elements of the batch array v and writes the array of their
// replies to out, in request order. It returns the number of replies.
func (h *handler) batch(ctx context.Context, sess *service.Session, v []byte, out *buffer) int {
	var reqs []request
	s := newScanner(v)
	for {
		el, ok := s.next()
		if !ok {
			break
		}
		if len(reqs) == h.opts.MaxBatch {
			out.writeError(nil, h.batchTooLarge)
			return 1
		}
		reqs = append(reqs, parseRequest(el, h.names))
	}
	if len(reqs) == 0 {
		out.writeError(nil, errEmptyBatch)
		return 1
	}
	if h.opts.OnBatch != nil {
		h.opts.OnBatch(len(reqs))
	}
	// Each element is answered here when it never reaches a method (invalid,
	// rpc.*, params by position); the rest run together through the service,
	// which bounds them and gathers same-method reads.
	outs := make([]outcome, len(reqs))
	var (
		calls []service.BatchCall
		at    []int
	)
	for i := range reqs {
		if c, ok := h.prepare(&reqs[i], &outs[i]); ok {
			calls = append(calls, c)
			at = append(at, i)
		}
	}
	if len(calls) > 0 {
		for j, r := range h.svc.RunBatch(ctx, sess, calls, h.opts.Concurrency) {
			outs[at[j]] = outcome{res: r.Result, err: r.Err}
		}
	}
	n := 0
	out.WriteByte('[')
	for i := range reqs {
		if reqs[i].notify && reqs[i].err == nil {
			continue
		}
		if n > 0 {
			out.WriteByte(',')
		}
		h.reply(ctx, sess, &reqs[i], outs[i], out)
		n++
	}
	out.WriteByte(']')
	if n == 0 {
		out.Reset()
	}
	return n
}

// outcome is what one request came to: a result or an error.
type outcome struct {
	res any
	err *service.Error
}

// run executes one request and writes its reply to buf. It reports whether it
// wrote one: notifications are never answered, invalid requests always are.
func (h *handler) run(ctx context.Context, sess *service.Session, req *request, buf *buffer) bool {
	o := h.call(ctx, sess, req)
	if req.notify && req.err == nil {
		return false
	}
	h.reply(ctx, sess, req, o, buf)
	return true
}

// call runs one request through the service, unless prepare answers it.
func (h *handler) call(ctx context.Context, sess *service.Session, req *request) outcome {
	var o outcome
	if c, ok := h.prepare(req, &o); ok {
		res, err := h.svc.Invoke(ctx, sess, c.Method, c.Args)
		o = outcome{res: res}
		if err != nil {
			o.err = service.AsError(err)
		}
	}
	return o
}

// prepare turns a request into the service call it makes, or sets its outcome
// when it makes none: an invalid request, a reserved rpc.* name, params by
// position, params that are not an object.
func (h *handler) prepare(req *request, o *outcome) (service.BatchCall, bool) {
	if req.err != nil {
		o.err = req.err
		return service.BatchCall{}, false
	}
	if strings.HasPrefix(req.method, "rpc.") {
		o.res, o.err = h.reserved(req)
		return service.BatchCall{}, false
	}
	var args service.Args
	if req.params != nil {
		if req.params[0] == '[' {
			if _, ok := h.svc.Registry().Lookup(req.method); !ok {
				o.err = methodNotFound(req.method)
			} else {
				o.err = errByPosition
			}
			return service.BatchCall{}, false
		}
		var perr *service.Error
		if args, perr = parseArgs(req.params); perr != nil {
			o.err = perr
			return service.BatchCall{}, false
		}
	}
	return service.BatchCall{Method: req.method, Args: args}, true
}

// reply writes the reply to req carrying o to buf.
func (h *handler) reply(ctx context.Context, sess *service.Session, req *request, o outcome, buf *buffer) {
	start := buf.Len()
	defer func() {
		// The service recovers panics of methods; this catches the transport's
		// own (a result whose MarshalJSON panics).
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "rpc: panic", "request_id", sess.RequestID, "method", req.method, "panic", fmt.Sprint(p))
			buf.Truncate(start)
			buf.writeError(req.id, errInternalReply)
		}
	}()
	if o.err != nil {
		buf.writeError(req.id, o.err)
		return
	}
	if err := buf.writeResult(req.id, o.res); err != nil {
		h.log.ErrorContext(ctx, "rpc: cannot encode result", "request_id", sess.RequestID, "method", req.method, "err", err)
		buf.writeError(req.id, errInternalReply)
	}
}

// reserved serves the method names the specification reserves (rpc.*):
// rpc.discover answers the OpenRPC document of the registry (openrpc.go),
// needing no credentials and ignoring params; every other rpc.* name is
// method_not_found.
func (h *handler) reserved(req *request) (any, *service.Error) {
	if req.method == "rpc.discover" {
		return discover(h.svc)
	}
	return nil, methodNotFound(req.method)
}

func methodNotFound(name string) *service.Error {
	if len(name) > 100 {
		name = name[:100] + "…"
	}
	return &service.Error{Code: service.CodeMethodNotFound, Message: "method not found: " + name}
}

// buffer is a pooled output buffer with its JSON encoder.
type buffer struct {
	bytes.Buffer
	enc *json.Encoder
}

var bufferPool = sync.Pool{New: func() any {
	b := new(buffer)
	b.enc = json.NewEncoder(&b.Buffer)
	return b
}}

func getBuffer() *buffer { return bufferPool.Get().(*buffer) }

func putBuffer(b *buffer) {
	if b.Cap() <= maxPooled {
		b.Reset()
		bufferPool.Put(b)
	}
}

// encode appends the JSON of v, without the encoder's trailing newline. On
// failure nothing is appended.
func (b *buffer) encode(v any) error {
	if err := b.enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1)
	return nil
}

// writeID appends the raw id, or null.
func (b *buffer) writeID(id []byte) {
	if id == nil {
		b.WriteString("null")
		return
	}
	b.Write(id)
}

// writeResult appends a success reply; on an encoding failure it appends
// nothing and returns the error.
func (b *buffer) writeResult(id []byte, res any) error {
	start := b.Len()
	b.WriteString(`{"jsonrpc":"2.0","result":`)
	if err := b.encode(res); err != nil {
		b.Truncate(start)
		return err
	}
	b.WriteString(`,"id":`)
	b.writeID(id)
	b.WriteByte('}')
	return nil
}

// writeError appends an error reply. The cause (e.Err) is never sent.
func (b *buffer) writeError(id []byte, e *service.Error) {
	obj := jsonrpc2.Error{Code: e.Code.Number(), Message: e.Message}
	if data, err := json.Marshal(e.Data()); err == nil {
		raw := json.RawMessage(data)
		obj.Data = &raw
	}
	b.WriteString(`{"jsonrpc":"2.0","error":`)
	if err := b.encode(&obj); err != nil {
		b.WriteString(`{"code":-32603,"message":"internal error"}`)
	}
	b.WriteString(`,"id":`)
	b.writeID(id)
	b.WriteByte('}')
}

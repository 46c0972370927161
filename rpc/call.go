package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

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
	replies := make([]*buffer, len(reqs))
	h.runAll(ctx, sess, reqs, replies)
	n := 0
	out.WriteByte('[')
	for _, b := range replies {
		if b == nil {
			continue
		}
		if n > 0 {
			out.WriteByte(',')
		}
		out.Write(b.Bytes())
		putBuffer(b)
		n++
	}
	out.WriteByte(']')
	if n == 0 {
		out.Reset()
	}
	return n
}

// runAll runs reqs on at most Concurrency goroutines (the calling one
// included), each taking the next element not yet started. The reply of
// reqs[i] goes to replies[i] (nil for a notification), so replies keep
// request order whatever order the calls finish in.
func (h *handler) runAll(ctx context.Context, sess *service.Session, reqs []request, replies []*buffer) {
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(reqs) {
				return
			}
			b := getBuffer()
			if h.run(ctx, sess, &reqs[i], b) {
				replies[i] = b
			} else {
				putBuffer(b)
			}
		}
	}
	var wg sync.WaitGroup
	for range min(h.opts.Concurrency, len(reqs)) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// run executes one request and writes its reply to buf. It reports whether it
// wrote one: notifications are never answered, invalid requests always are.
func (h *handler) run(ctx context.Context, sess *service.Session, req *request, buf *buffer) (replied bool) {
	if req.err != nil {
		buf.writeError(req.id, req.err)
		return true
	}
	start := buf.Len()
	defer func() {
		// The service recovers panics of methods; this catches the transport's
		// own (a result whose MarshalJSON panics), which on a batch goroutine
		// would otherwise bring the process down.
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "rpc: panic", "request_id", sess.RequestID, "method", req.method, "panic", fmt.Sprint(p))
			buf.Truncate(start)
			replied = !req.notify
			if replied {
				buf.writeError(req.id, errInternalReply)
			}
		}
	}()
	res, err := h.call(ctx, sess, req)
	if req.notify {
		return false
	}
	if err != nil {
		buf.writeError(req.id, err)
		return true
	}
	if err := buf.writeResult(req.id, res); err != nil {
		h.log.ErrorContext(ctx, "rpc: cannot encode result", "request_id", sess.RequestID, "method", req.method, "err", err)
		buf.writeError(req.id, errInternalReply)
	}
	return true
}

// call runs a valid request through the service.
func (h *handler) call(ctx context.Context, sess *service.Session, req *request) (any, *service.Error) {
	if strings.HasPrefix(req.method, "rpc.") {
		return h.reserved(ctx, sess, req)
	}
	var args service.Args
	if req.params != nil {
		if req.params[0] == '[' {
			if _, ok := h.svc.Registry().Lookup(req.method); !ok {
				return nil, methodNotFound(req.method)
			}
			return nil, errByPosition
		}
		var perr *service.Error
		if args, perr = parseArgs(req.params); perr != nil {
			return nil, perr
		}
	}
	res, err := h.svc.Invoke(ctx, sess, req.method, args)
	if err != nil {
		return nil, service.AsError(err)
	}
	return res, nil
}

// reserved serves the method names the specification reserves (rpc.*):
// rpc.discover answers the OpenRPC document of the registry (openrpc.go),
// needing no credentials and ignoring params; every other rpc.* name is
// method_not_found.
func (h *handler) reserved(_ context.Context, _ *service.Session, req *request) (any, *service.Error) {
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

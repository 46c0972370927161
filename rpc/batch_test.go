package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billgate/billgate/rpc"
	"github.com/billgate/billgate/service"
)

// The tests below would deadlock if batch elements ran one after the other:
// their methods wait for each other. deadline turns such a deadlock into a
// failure; no test asserts on durations.
const deadline = 20 * time.Second

// hold is how long test.hold stays in flight. Proving that no more than N
// calls run at once takes holding N of them for a while: a correct handler
// cannot fail the test however slow the machine, a handler that ignores the
// bound fails it unless starting a goroutine takes longer than hold.
const hold = 100 * time.Millisecond

type keyParams struct {
	Key string `json:"key"`
}

// rendezvous lets calls wait for each other.
type rendezvous struct {
	ctx     context.Context
	mu      sync.Mutex
	arrived int
	chans   map[string]chan struct{}

	// test.hold: calls in flight, their bound, and a channel closed when a
	// call starts with more than bound calls in flight.
	inflight atomic.Int64
	bound    int64
	exceed   sync.Once
	exceeded chan struct{}
}

// channel returns the channel named key, made on first use.
func (r *rendezvous) channel(key string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.chans == nil {
		r.chans = map[string]chan struct{}{}
	}
	ch, ok := r.chans[key]
	if !ok {
		ch = make(chan struct{})
		r.chans[key] = ch
	}
	return ch
}

func (r *rendezvous) wait(ch chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-r.ctx.Done():
		return service.Errorf(service.CodeUnavailable, "gave up waiting: the batch elements do not run concurrently")
	}
}

// register adds test.barrier {key} (waits until as many calls as the key's
// number have arrived), test.wait {key} / test.signal {key}, and test.hold
// (stays in flight for a while, reporting whether more than r.bound calls
// were ever in flight together).
func (r *rendezvous) register(reg *service.Registry, barrierSize int) {
	service.Register(reg, service.Decl[keyParams, string]{Name: "test.barrier", Auth: service.Public,
		Do: func(_ context.Context, p *keyParams) (string, error) {
			ch := r.channel("barrier")
			r.mu.Lock()
			r.arrived++
			if r.arrived == barrierSize {
				close(ch)
			}
			r.mu.Unlock()
			return p.Key, r.wait(ch)
		}})
	service.Register(reg, service.Decl[keyParams, string]{Name: "test.wait", Auth: service.Public,
		Do: func(_ context.Context, p *keyParams) (string, error) {
			return "waited " + p.Key, r.wait(r.channel(p.Key))
		}})
	service.Register(reg, service.Decl[keyParams, string]{Name: "test.signal", Auth: service.Public,
		Do: func(_ context.Context, p *keyParams) (string, error) {
			close(r.channel(p.Key))
			return "signalled " + p.Key, nil
		}})
	service.Register(reg, service.Decl[keyParams, string]{Name: "test.hold", Auth: service.Public,
		Do: func(_ context.Context, p *keyParams) (string, error) {
			defer r.inflight.Add(-1)
			if r.inflight.Add(1) > r.bound {
				r.exceed.Do(func() { close(r.exceeded) })
			}
			select {
			case <-r.exceeded:
				return "exceeded", nil
			case <-time.After(hold):
				return "bounded", nil
			}
		}})
}

func newRendezvousServer(t *testing.T, opts rpc.Options, barrierSize int) (*testServer, *rendezvous) {
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	t.Cleanup(cancel)
	r := &rendezvous{ctx: ctx, bound: int64(opts.Concurrency), exceeded: make(chan struct{})}
	svc := newService(t)
	r.register(svc.Registry(), barrierSize)
	return newServer(t, svc, opts), r
}

// batchOf returns a batch calling method with keys k0…k(n-1) and ids 0…n-1.
func batchOf(method string, n int) string {
	els := make([]string, n)
	for i := range els {
		els[i] = fmt.Sprintf(`{"jsonrpc":"2.0","method":%q,"params":{"key":"k%d"},"id":%d}`, method, i, i)
	}
	return "[" + strings.Join(els, ",") + "]"
}

func TestBatchRunsConcurrently(t *testing.T) {
	const n = 6
	srv, _ := newRendezvousServer(t, rpc.Options{Concurrency: n}, n)
	got := srv.post(batchOf("test.barrier", n)).batch(t)
	if len(got) != n {
		t.Fatalf("%d replies, want %d", len(got), n)
	}
	for i := range got {
		expectResult(t, &got[i], fmt.Sprintf(`"k%d"`, i), fmt.Sprint(i))
	}
}

func TestBatchConcurrencyIsBounded(t *testing.T) {
	srv, _ := newRendezvousServer(t, rpc.Options{Concurrency: 2}, 0)
	got := srv.post(batchOf("test.hold", 4)).batch(t)
	for i := range got {
		expectResult(t, &got[i], `"bounded"`, fmt.Sprint(i))
	}
}

func TestBatchRepliesKeepRequestOrder(t *testing.T) {
	srv, _ := newRendezvousServer(t, rpc.Options{}, 0)
	// The first element finishes last, the second one second.
	got := srv.post(`[
		{"jsonrpc":"2.0","method":"test.wait","params":{"key":"b"},"id":"first"},
		{"jsonrpc":"2.0","method":"test.wait","params":{"key":"a"},"id":"second"},
		{"jsonrpc":"2.0","method":"test.signal","params":{"key":"a"}},
		"not a request",
		{"jsonrpc":"2.0","method":"test.get_data","id":"fourth"},
		{"jsonrpc":"2.0","method":"nope","id":"fifth"},
		{"jsonrpc":"2.0","method":"test.signal","params":{"key":"b"},"id":"sixth"}
	]`).batch(t)
	if len(got) != 6 {
		t.Fatalf("%d replies, want 6", len(got))
	}
	expectResult(t, &got[0], `"waited b"`, `"first"`)
	expectResult(t, &got[1], `"waited a"`, `"second"`)
	expectError(t, &got[2], -32600, "null")
	expectResult(t, &got[3], `["hello",5]`, `"fourth"`)
	expectError(t, &got[4], -32601, `"fifth"`)
	expectResult(t, &got[5], `"signalled b"`, `"sixth"`)
}

func TestLargeBatch(t *testing.T) {
	srv := newServer(t, nil, rpc.Options{})
	const n = 1000
	els := make([]string, n)
	for i := range els {
		els[i] = fmt.Sprintf(`{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":%d,"subtrahend":1},"id":%d}`, i, i)
		if i%3 == 0 { // every third a notification
			els[i] = `{"jsonrpc":"2.0","method":"test.subtract","params":{"minuend":1,"subtrahend":1}}`
		}
	}
	got := srv.post("[" + strings.Join(els, ",") + "]").batch(t)
	if len(got) != n-(n+2)/3 {
		t.Fatalf("%d replies", len(got))
	}
	j := 0
	for i := range n {
		if i%3 == 0 {
			continue
		}
		expectResult(t, &got[j], fmt.Sprint(i-1), fmt.Sprint(i))
		j++
	}
}

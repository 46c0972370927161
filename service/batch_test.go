package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
)

// clientStore is a Store that knows clients 1..n and counts how it was asked.
// Every other method is the nil interface's (it panics if a test reaches it).
type clientStore struct {
	service.Store
	n           int64
	single      atomic.Int64
	many        atomic.Int64
	manyIDs     atomic.Int64
	failMany    error
	panicInMany bool
}

func (c *clientStore) client(id int64) *service.Client {
	return &service.Client{ID: id, Name: fmt.Sprintf("client %d", id), CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *clientStore) FindClient(_ context.Context, id int64) (*service.Client, error) {
	c.single.Add(1)
	if id < 1 || id > c.n {
		return nil, service.NotFound("client", id)
	}
	return c.client(id), nil
}

func (c *clientStore) FindClients(_ context.Context, ids []int64) ([]*service.Client, error) {
	c.many.Add(1)
	c.manyIDs.Add(int64(len(ids)))
	if c.panicInMany {
		panic("store exploded")
	}
	if c.failMany != nil {
		return nil, c.failMany
	}
	out := make([]*service.Client, len(ids))
	for i, id := range ids {
		if id >= 1 && id <= c.n {
			out[i] = c.client(id)
		}
	}
	return out, nil
}

func getCall(params service.Args) service.BatchCall {
	return service.BatchCall{Method: "clients.get", Args: params}
}

// TestRunBatchGathersReads: the clients.get calls of a batch are answered by
// one FindClients, and every call's outcome is the one a single call gives
// (not found, invalid params, its own zone), in order.
func TestRunBatchGathersReads(t *testing.T) {
	st := &clientStore{n: 50}
	svc := service.New(service.Config{}, st, nil, nil)
	sess := service.NewSystemSession()
	// mk builds the calls afresh: the service consumes the meta params (__tz).
	mk := func() []service.BatchCall {
		var calls []service.BatchCall
		for id := range 60 { // 0 and 51..59 do not exist
			calls = append(calls, getCall(args(map[string]any{"id": float64(id)})))
		}
		calls = append(calls,
			getCall(args(map[string]any{"id": "seven"})),                          // fails binding: never reaches the handler
			getCall(args(map[string]any{"id": float64(7), "__tz": "Asia/Tokyo"})), // its own zone
			getCall(args(map[string]any{"id": float64(7)})),                       // a repeat: a result of its own
			service.BatchCall{Method: "system.version"},                           // another method, run as usual
		)
		return calls
	}
	calls := mk()
	singles := mk()
	got := svc.RunBatch(context.Background(), sess, calls, 4)
	if st.many.Load() != 1 || st.single.Load() != 0 {
		t.Fatalf("FindClients called %d times, FindClient %d times; want one gathered query", st.many.Load(), st.single.Load())
	}
	if st.manyIDs.Load() != 62 {
		t.Errorf("FindClients got %d ids, want the 62 calls that reached the handler", st.manyIDs.Load())
	}
	if len(got) != len(calls) {
		t.Fatalf("%d outcomes for %d calls", len(got), len(calls))
	}
	for i := range calls {
		want, werr := svc.Invoke(context.Background(), service.NewSystemSession(), singles[i].Method, singles[i].Args)
		g := got[i]
		if werr != nil {
			we := service.AsError(werr)
			if g.Err == nil || g.Err.Code != we.Code || g.Err.Message != we.Message {
				t.Errorf("call %d: got %+v, a single call says %v", i, g, we)
			}
			continue
		}
		if g.Err != nil {
			t.Errorf("call %d: got error %v, a single call succeeds", i, g.Err)
			continue
		}
		if fmt.Sprint(g.Result) != fmt.Sprint(want) {
			t.Errorf("call %d: got %v, a single call gives %v", i, g.Result, want)
		}
	}
	tokyo, plain := got[61].Result.(*service.Client), got[62].Result.(*service.Client)
	if tokyo == plain || tokyo.CreatedAt.Location().String() != "Asia/Tokyo" || plain.CreatedAt.Location().String() != "UTC" {
		t.Errorf("repeated id: results share a value or a zone: %v / %v", tokyo.CreatedAt, plain.CreatedAt)
	}
}

// TestRunBatchGatherFailures: a failing or panicking Many fails each of its
// calls with the store's error, releases all of them, and leaves the batch's
// other calls alone.
func TestRunBatchGatherFailures(t *testing.T) {
	for name, st := range map[string]*clientStore{
		"unavailable": {n: 5, failMany: service.Unavailable(errors.New("db down"))},
		"panic":       {n: 5, panicInMany: true},
	} {
		t.Run(name, func(t *testing.T) {
			svc := service.New(service.Config{}, st, nil, nil)
			calls := []service.BatchCall{
				getCall(args(map[string]any{"id": float64(1)})),
				{Method: "system.version"},
				getCall(args(map[string]any{"id": float64(2)})),
				getCall(args(map[string]any{"id": float64(3)})),
			}
			got := svc.RunBatch(context.Background(), service.NewSystemSession(), calls, 2)
			want := service.CodeUnavailable
			if st.panicInMany {
				want = service.CodeInternal
			}
			for _, i := range []int{0, 2, 3} {
				if got[i].Err == nil || got[i].Err.Code != want {
					t.Errorf("call %d: %+v, want %s", i, got[i], want)
				}
			}
			if got[1].Err != nil {
				t.Errorf("system.version: %v", got[1].Err)
			}
		})
	}
}

// TestRunBatchConcurrent: many batches at once, each with its own gather;
// every call gets its own client (no gather answers another batch's call).
func TestRunBatchConcurrent(t *testing.T) {
	st := &clientStore{n: 1000}
	svc := service.New(service.Config{}, st, nil, nil)
	var wg sync.WaitGroup
	for b := range 20 {
		wg.Go(func() {
			var calls []service.BatchCall
			for k := range 50 {
				calls = append(calls, getCall(args(map[string]any{"id": float64(b*50 + k + 1)})))
			}
			for i, r := range svc.RunBatch(context.Background(), service.NewSystemSession(), calls, 8) {
				if r.Err != nil || r.Result.(*service.Client).ID != int64(b*50+i+1) {
					t.Errorf("batch %d call %d: %+v", b, i, r)
				}
			}
		})
	}
	wg.Wait()
	if st.many.Load() != 20 || st.single.Load() != 0 {
		t.Errorf("%d gathered queries and %d single ones for 20 batches", st.many.Load(), st.single.Load())
	}
}

// args encodes params as a call's arguments.
func args(params map[string]any) service.Args {
	a := service.Args{}
	for k, v := range params {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		a[k] = b
	}
	return a
}

// TestRunBatchGatherBound: a large batch is gathered maxGather (128) calls per
// query, in order, each call still answered with its own client.
func TestRunBatchGatherBound(t *testing.T) {
	st := &clientStore{n: 1000}
	svc := service.New(service.Config{}, st, nil, nil)
	var calls []service.BatchCall
	for id := range 300 {
		calls = append(calls, getCall(args(map[string]any{"id": float64(id + 1)})))
	}
	for i, r := range svc.RunBatch(context.Background(), service.NewSystemSession(), calls, 8) {
		if r.Err != nil || r.Result.(*service.Client).ID != int64(i+1) {
			t.Fatalf("call %d: %+v", i, r)
		}
	}
	if st.many.Load() != 3 || st.manyIDs.Load() != 300 || st.single.Load() != 0 {
		t.Errorf("%d gathered queries for %d ids (and %d single ones); want 3 for 300", st.many.Load(), st.manyIDs.Load(), st.single.Load())
	}
}

// TestRunBatchPanicOutsideTheChain: a panic in middleware added with Use
// (outside the chain's own recovery) fails that call alone — on a gathered
// call too, whose siblings are then not kept waiting for it.
func TestRunBatchPanicOutsideTheChain(t *testing.T) {
	st := &clientStore{n: 10}
	svc := service.New(service.Config{}, st, nil, nil)
	svc.Use(func(next service.Handler) service.Handler {
		return func(ctx context.Context, c *service.Call) (any, error) {
			if c.Method.Name == "system.version" {
				panic("metrics exploded")
			}
			if id, ok := c.Args["id"]; ok && string(id) == "2" {
				panic("before the handler")
			}
			return next(ctx, c)
		}
	})
	calls := []service.BatchCall{
		getCall(args(map[string]any{"id": 1})),
		getCall(args(map[string]any{"id": 2})),
		{Method: "system.version"},
		getCall(args(map[string]any{"id": 3})),
	}
	got := svc.RunBatch(context.Background(), service.NewSystemSession(), calls, 2)
	for _, i := range []int{1, 2} {
		if got[i].Err == nil || got[i].Err.Code != service.CodeInternal {
			t.Errorf("call %d: %+v, want internal", i, got[i])
		}
	}
	for _, i := range []int{0, 3} {
		if got[i].Err != nil || got[i].Result == nil {
			t.Errorf("call %d: %+v, want its client", i, got[i])
		}
	}
}

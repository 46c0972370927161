package service

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// BatchCall is one call of a batch given to RunBatch.
type BatchCall struct {
	Method string
	Args   Args
}

// BatchResult is the outcome of one BatchCall: a result or an error.
type BatchResult struct {
	Result any
	Err    *Error
}

// RunBatch runs the calls of one batch (a JSON-RPC batch: one session, so one
// caller) and returns their outcomes in the order of calls.
//
// Every call goes through the whole method chain on its own, exactly as
// Invoke: authentication, binding, versioning, logging, metrics and
// localisation are per call, and a call's failure is its own. At most
// concurrency calls run at once, with one exception: the calls of a method
// that declares a Many form (Decl.Many), when the batch holds two or more of
// them, run side by side, up to maxGather at a time, and their handlers are
// gathered into one call of Many (one query for a hundred clients.get instead
// of a hundred). Those calls wait for each other only after their own checks,
// so none of them can hold up a call of another method.
func (s *Service) RunBatch(ctx context.Context, sess *Session, calls []BatchCall, concurrency int) []BatchResult {
	out := make([]BatchResult, len(calls))
	assigned, groups := s.gathers(calls)
	run := func(i int) {
		defer func() {
			// The chain recovers the panics of methods; this catches any
			// outside it (middleware added with Use), which on a batch
			// goroutine would otherwise end the process.
			if p := recover(); p != nil {
				s.log.ErrorContext(ctx, "panic", "method", calls[i].Method, "request_id", sess.RequestID, "panic", fmt.Sprint(p))
				out[i] = BatchResult{Err: Internal(fmt.Errorf("panic: %v", p))}
			}
		}()
		cctx := ctx
		var slot *gatherSlot
		if g := assigned[i]; g != nil {
			slot = &gatherSlot{g: g}
			cctx = context.WithValue(ctx, gatherKey{}, slot)
			// A call that ends before its handler (an error, a panic) is
			// not waited for.
			defer slot.leave()
		}
		res, err := s.Invoke(cctx, sess, calls[i].Method, calls[i].Args)
		out[i] = BatchResult{Result: res}
		if err != nil {
			out[i] = BatchResult{Err: AsError(err)}
		}
	}
	var wg sync.WaitGroup
	// The gathered calls, one gather at a time: its calls wait for each other,
	// so each needs a goroutine of its own; maxGather bounds how many.
	if len(groups) > 0 {
		wg.Go(func() {
			for _, group := range groups {
				var gw sync.WaitGroup
				for _, i := range group {
					gw.Go(func() { run(i) })
				}
				gw.Wait()
			}
		})
	}
	var rest []int
	for i := range calls {
		if assigned[i] == nil {
			rest = append(rest, i)
		}
	}
	var next atomic.Int64
	work := func() {
		for {
			k := int(next.Add(1)) - 1
			if k >= len(rest) {
				return
			}
			run(rest[k])
		}
	}
	for range min(max(concurrency, 1), len(rest)) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	return out
}

// maxGather bounds the calls of one gather (one query, and as many waiting
// goroutines): a batch of 1,000 clients.get is eight queries.
const maxGather = 128

// gathers assigns the calls of a method with a Many form, when the batch holds
// two or more of them, to gathers of at most maxGather calls, in order. It
// returns each call's gather (nil: the call runs on its own) and the calls of
// each gather.
func (s *Service) gathers(calls []BatchCall) ([]*gather, [][]int) {
	assigned := make([]*gather, len(calls))
	var byMethod map[string][]int
	for i, c := range calls {
		if m, ok := s.registry.Lookup(c.Method); ok && m.CallMany != nil {
			if byMethod == nil {
				byMethod = map[string][]int{}
			}
			byMethod[c.Method] = append(byMethod[c.Method], i)
		}
	}
	var groups [][]int
	for name, idx := range byMethod {
		if len(idx) < 2 {
			continue
		}
		m, _ := s.registry.Lookup(name)
		for len(idx) > 0 {
			group := idx[:min(maxGather, len(idx))]
			idx = idx[len(group):]
			g := &gather{s: s, m: m, expect: len(group), done: make(chan struct{})}
			for _, i := range group {
				assigned[i] = g
			}
			groups = append(groups, group)
		}
	}
	return assigned, groups
}

type gatherKey struct{}

// gather collects the params of the calls of one method in one batch and runs
// them as one call of the method's Many form once every call has either
// handed in its params or finished without reaching its handler.
type gather struct {
	s *Service
	m *Method

	mu      sync.Mutex
	expect  int             // calls neither handed in nor gone
	ctx     context.Context // the first call's, which the handler runs under
	who     *Principal
	start   time.Time // the first call's start: the call deadline counts from it
	params  []any
	results []any
	errs    []error
	done    chan struct{} // closed when results and errs are set
}

// gatherSlot is one call's place in a gather.
type gatherSlot struct {
	g      *gather
	handed bool
}

// handIn adds the params of a call that reached its handler, waits for the
// gather to run and returns that call's outcome. The last call to arrive runs
// Many on its own goroutine (under its own context: every call of a batch has
// the same session, hence the same principal and scope).
func (sl *gatherSlot) handIn(ctx context.Context, c *Call) (any, error) {
	g := sl.g
	g.mu.Lock()
	if g.who != nil && !sameScope(g.who, c.Principal) {
		g.mu.Unlock()
		return nil, Internal(fmt.Errorf("gather %s: calls of one batch with different principals", g.m.Name))
	}
	sl.handed = true
	i := len(g.params)
	g.params = append(g.params, c.Params)
	if g.ctx == nil {
		g.ctx, g.who, g.start = ctx, c.Principal, c.Start
	}
	g.expect--
	last := g.expect == 0
	g.mu.Unlock()
	if last {
		g.run()
	}
	<-g.done
	return g.results[i], g.errs[i]
}

// leave tells the gather that a call has finished; one that never handed in
// its params is no longer waited for.
func (sl *gatherSlot) leave() {
	if sl.handed {
		return
	}
	g := sl.g
	g.mu.Lock()
	g.expect--
	last := g.expect == 0 && len(g.params) > 0
	g.mu.Unlock()
	if last {
		g.run()
	}
}

// run calls Many once for the params handed in and releases their calls.
func (g *gather) run() {
	defer close(g.done)
	defer func() {
		if r := recover(); r != nil {
			g.s.log.ErrorContext(g.ctx, "panic", "method", g.m.Name, "panic", fmt.Sprint(r))
			g.results = make([]any, len(g.params))
			g.errs = make([]error, len(g.params))
			for i := range g.errs {
				g.errs[i] = Internal(fmt.Errorf("panic: %v", r))
			}
		}
	}()
	ctx, cancel := g.s.callDeadline(g.ctx, g.start)
	defer cancel()
	g.results, g.errs = g.m.CallMany(ctx, g.params)
}

// sameScope reports whether a and b see the same rows (the principal of every
// call of a batch is the same; this guards the gather against ever mixing two).
func sameScope(a, b *Principal) bool {
	if a == nil || b == nil {
		return a == b
	}
	if (a.ResellerID == nil) != (b.ResellerID == nil) || (a.ResellerID != nil && *a.ResellerID != *b.ResellerID) {
		return false
	}
	return a.UserID == b.UserID && a.KeyID == b.KeyID && a.ViaJWT == b.ViaJWT && a.Live == b.Live &&
		a.ResellerPath == b.ResellerPath
}

// gathered returns the gather slot of ctx for method m, if its call is gathered.
func gathered(ctx context.Context, m *Method) *gatherSlot {
	sl, _ := ctx.Value(gatherKey{}).(*gatherSlot)
	if sl == nil || sl.g.m != m {
		return nil
	}
	return sl
}

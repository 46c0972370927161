package service

import (
	"context"
	"sync"
	"time"
)

// withCallDeadline returns ctx bounded by the call deadline d. The timer
// behind the deadline is made only when something waits on the context (asks
// for Done: every database query does): a call that never waits, like
// system.version, pays for no timer, no cancel registration on the request's
// context and no allocations beyond this one. Until then Err reads the clock.
// Release it with the returned cancel, as context.WithDeadline's.
func withCallDeadline(ctx context.Context, d time.Time) (context.Context, context.CancelFunc) {
	c := &lazyDeadline{parent: ctx, deadline: d}
	return c, c.cancel
}

// lazyDeadline is a context.Context whose context.WithDeadline is made on
// first use of Done.
type lazyDeadline struct {
	parent   context.Context
	deadline time.Time

	mu       sync.Mutex
	inner    context.Context // context.WithDeadline(parent, deadline), once needed
	stop     context.CancelFunc
	canceled bool
}

func (c *lazyDeadline) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *lazyDeadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner == nil {
		c.inner, c.stop = context.WithDeadline(c.parent, c.deadline)
		if c.canceled {
			c.stop()
		}
	}
	return c.inner.Done()
}

func (c *lazyDeadline) Err() error {
	c.mu.Lock()
	inner, canceled := c.inner, c.canceled
	c.mu.Unlock()
	switch {
	case inner != nil:
		return inner.Err()
	case canceled:
		return context.Canceled
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value answers from the deadline context once it exists (so that
// context.Cause finds its cause), from the parent before.
func (c *lazyDeadline) Value(key any) any {
	c.mu.Lock()
	inner := c.inner
	c.mu.Unlock()
	if inner != nil {
		return inner.Value(key)
	}
	return c.parent.Value(key)
}

func (c *lazyDeadline) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.canceled = true
	if c.stop != nil {
		c.stop()
	}
}

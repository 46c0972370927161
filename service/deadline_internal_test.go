package service

import (
	"context"
	"errors"
	"testing"
	"time"
)

type testKey struct{}

// TestCallDeadline: the lazy call deadline behaves as context.WithDeadline
// whether or not anything ever asked for Done.
func TestCallDeadline(t *testing.T) {
	parent := context.WithValue(context.Background(), testKey{}, "v")
	future := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Second)

	ctx, cancel := withCallDeadline(parent, future)
	if ctx.Err() != nil || ctx.Value(testKey{}) != "v" {
		t.Fatalf("fresh: err %v, value %v", ctx.Err(), ctx.Value(testKey{}))
	}
	if d, ok := ctx.Deadline(); !ok || !d.Equal(future) {
		t.Errorf("deadline %v %v", d, ok)
	}
	select {
	case <-ctx.Done():
		t.Fatal("done before its deadline")
	default:
	}
	cancel()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("after cancel: %v", ctx.Err())
	}

	// Expired, never waited on: Err reads the clock; Done is closed at once.
	ctx, cancel = withCallDeadline(parent, past)
	defer cancel()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("expired: %v", ctx.Err())
	}
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) || ctx.Value(testKey{}) != "v" {
		t.Errorf("expired, waited on: cause %v, value %v", context.Cause(ctx), ctx.Value(testKey{}))
	}

	// Canceled before anything waited: Err says so, Done is closed when asked.
	ctx, cancel = withCallDeadline(parent, future)
	cancel()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("canceled early: %v", ctx.Err())
	}
	<-ctx.Done()

	// The parent's cancellation and earlier deadline reach it, before and after Done.
	for _, waitFirst := range []bool{false, true} {
		p, pcancel := context.WithDeadline(parent, time.Now().Add(time.Minute))
		ctx, cancel := withCallDeadline(p, future)
		if d, _ := ctx.Deadline(); !d.Before(future) {
			t.Errorf("the parent's earlier deadline is not the deadline: %v", d)
		}
		if waitFirst {
			_ = ctx.Done()
		}
		pcancel()
		<-ctx.Done()
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("parent canceled (waited first %v): %v", waitFirst, ctx.Err())
		}
		cancel()
	}
}

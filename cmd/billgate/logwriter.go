package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// The log is buffered: one JSON line per call written straight to stderr
// costs a write(2) per call, ~5% of the server's CPU on the hottest path.
// logWriter collects lines in memory and a background goroutine writes them
// out every logFlushEvery, so calls pay a copy, not a syscall. The trade-off:
// a crash can lose at most ~logFlushEvery of info lines. Lines at level ERROR
// and above are written before the call that logged them returns (see
// flushOnError), and run closes the writer on every return path.
const (
	logFlushEvery = 100 * time.Millisecond
	logBufferMax  = 256 << 10 // beyond this a Write flushes synchronously
)

// logWriter is a buffered, asynchronous io.Writer around w. Each Write is
// copied whole into the buffer (lines are never split or interleaved) and
// written out, in order, by the ticker, by Flush, or synchronously by a Write
// that would grow the buffer beyond logBufferMax (back-pressure: memory is
// bounded and no line is dropped). After Close, Write writes through to w.
type logWriter struct {
	w io.Writer

	flushMu sync.Mutex // held across a flush's swap and write: flushes stay in order
	spare   []byte     // the buffer being written out; guarded by flushMu

	mu     sync.Mutex // guards buf and closed; never held during a write to w
	buf    []byte
	closed bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

func newLogWriter(w io.Writer) *logWriter {
	lw := &logWriter{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go lw.loop()
	return lw
}

func (lw *logWriter) loop() {
	defer close(lw.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = lw.Flush() // nowhere to report a failing stderr
		case <-lw.stop:
			return
		}
	}
}

// Write copies p into the buffer and returns; it flushes first when p would
// grow the buffer beyond logBufferMax, and writes through once closed.
func (lw *logWriter) Write(p []byte) (int, error) {
	for {
		lw.mu.Lock()
		if lw.closed {
			lw.mu.Unlock()
			lw.flushMu.Lock()
			defer lw.flushMu.Unlock()
			return lw.w.Write(p)
		}
		if len(lw.buf) == 0 || len(lw.buf)+len(p) <= logBufferMax {
			lw.buf = append(lw.buf, p...)
			lw.mu.Unlock()
			return len(p), nil
		}
		lw.mu.Unlock()
		// Back-pressure. A failed flush has still emptied the buffer (the
		// lines are gone to a broken stderr), so p fits on the next turn.
		_ = lw.Flush()
	}
}

// Flush writes everything buffered so far to the underlying writer. The
// buffers are swapped under the lock; the write happens outside it, so Write
// never waits for the syscall (except under back-pressure).
func (lw *logWriter) Flush() error {
	lw.flushMu.Lock()
	defer lw.flushMu.Unlock()
	lw.mu.Lock()
	out := lw.buf
	lw.buf = lw.spare[:0]
	lw.mu.Unlock()
	if len(out) == 0 {
		lw.spare = out
		return nil
	}
	_, err := lw.w.Write(out)
	if cap(out) > logBufferMax*2 {
		out = nil // a huge single line: do not keep its buffer
	}
	lw.spare = out[:0]
	return err
}

// Close stops the flushing goroutine and writes everything out; later Writes
// go straight to the underlying writer. It is idempotent.
func (lw *logWriter) Close() error {
	lw.closeOnce.Do(func() {
		close(lw.stop)
		<-lw.done
		lw.flushMu.Lock()
		lw.mu.Lock()
		lw.closed = true
		out := lw.buf
		lw.buf = nil
		lw.mu.Unlock()
		if len(out) > 0 {
			_, lw.closeErr = lw.w.Write(out)
		}
		lw.spare = nil
		lw.flushMu.Unlock()
	})
	return lw.closeErr
}

// syncWriter is lw for text that must be seen at once (the first start's
// credentials, command usage): written in order with the log lines, then
// flushed.
func (lw *logWriter) syncWriter() io.Writer { return syncLogWriter{lw} }

type syncLogWriter struct{ lw *logWriter }

func (s syncLogWriter) Write(p []byte) (int, error) {
	n, err := s.lw.Write(p)
	if err != nil {
		return n, err
	}
	return n, s.lw.Flush()
}

// flushOnError is a slog.Handler that flushes w after every record at level
// ERROR or above, so errors are on stderr before the call that logged them
// returns (and survive a crash right after).
type flushOnError struct {
	next slog.Handler
	w    interface{ Flush() error }
}

func (h flushOnError) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h flushOnError) Handle(ctx context.Context, r slog.Record) error {
	err := h.next.Handle(ctx, r)
	if r.Level >= slog.LevelError {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushOnError) WithAttrs(as []slog.Attr) slog.Handler {
	return flushOnError{h.next.WithAttrs(as), h.w}
}

func (h flushOnError) WithGroup(name string) slog.Handler {
	return flushOnError{h.next.WithGroup(name), h.w}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingBuffer is a syncBuffer that counts the writes it receives.
type countingBuffer struct {
	syncBuffer
	mu     sync.Mutex
	writes int
}

func (c *countingBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.syncBuffer.Write(p)
}

func (c *countingBuffer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// checkLines asserts out is exactly the lines want (in any order), each whole.
func checkLines(t *testing.T, out string, want map[string]bool) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") && out != "" {
		t.Errorf("output does not end with a newline: ...%q", out[max(0, len(out)-80):])
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	seen := map[string]bool{}
	for _, l := range got {
		if !want[l] {
			t.Fatalf("unexpected (split or interleaved?) line %q", l[:min(len(l), 120)])
		}
		if seen[l] {
			t.Fatalf("line written twice: %q", l[:min(len(l), 120)])
		}
		seen[l] = true
	}
	if len(seen) != len(want) {
		t.Fatalf("%d lines arrived, want %d", len(seen), len(want))
	}
}

// TestLogWriterConcurrentLinesArriveWhole: lines written from many goroutines
// all arrive, each whole, none interleaved, and Close writes them out.
func TestLogWriterConcurrentLinesArriveWhole(t *testing.T) {
	var under countingBuffer
	lw := newLogWriter(&under)
	const goroutines, perG = 64, 500
	want := map[string]bool{}
	for g := range goroutines {
		for i := range perG {
			want[fmt.Sprintf("{\"g\":%d,\"i\":%d,\"pad\":%q}", g, i, strings.Repeat("x", (g*perG+i)%300))] = true
		}
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				line := fmt.Sprintf("{\"g\":%d,\"i\":%d,\"pad\":%q}\n", g, i, strings.Repeat("x", (g*perG+i)%300))
				if n, err := lw.Write([]byte(line)); err != nil || n != len(line) {
					t.Errorf("Write: %d, %v", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	checkLines(t, under.String(), want)
	if n := under.count(); n >= goroutines*perG {
		t.Errorf("%d writes to the underlying writer for %d lines: not buffered", n, goroutines*perG)
	}
}

// TestLogWriterBuffersAndCloseFlushes: Flush and Close write everything
// buffered, in order; Close is idempotent.
func TestLogWriterBuffersAndCloseFlushes(t *testing.T) {
	var under countingBuffer
	lw := newLogWriter(&under)
	lw.Write([]byte("one\n"))
	lw.Write([]byte("two\n"))
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := under.String(); got != "one\ntwo\n" {
		t.Fatalf("after Flush: %q", got)
	}
	lw.Write([]byte("three\n"))
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if got := under.String(); got != "one\ntwo\nthree\n" {
		t.Fatalf("after Close: %q", got)
	}
	writes := under.count()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if under.count() != writes {
		t.Error("a second Close wrote again")
	}
}

// TestLogWriterTickerFlushes: without Flush or Close, lines still arrive
// (the background flush); polled with a generous deadline, nothing timed.
func TestLogWriterTickerFlushes(t *testing.T) {
	var under syncBuffer
	lw := newLogWriter(&under)
	defer lw.Close()
	lw.Write([]byte("by the ticker\n"))
	deadline := time.Now().Add(30 * time.Second)
	for under.String() != "by the ticker\n" {
		if time.Now().After(deadline) {
			t.Fatalf("the background flush never wrote the line: %q", under.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLogWriterErrorsAreWrittenAtOnce: a line at level ERROR (or above) is in
// the underlying writer when the log call returns, together with the info
// lines logged before it, in order — also through derived loggers.
func TestLogWriterErrorsAreWrittenAtOnce(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelError, slog.LevelError + 4} {
		var under syncBuffer
		lw := newLogWriter(&under)
		log, err := newLogger(lw, "info")
		if err != nil {
			t.Fatal(err)
		}
		log = log.With("component", "test").WithGroup("g")
		log.Info("before", "n", 1)
		log.Log(context.Background(), level, "failed", "cause", "boom")
		out := under.String() // right after the call: no waiting
		i, j := strings.Index(out, `"msg":"before"`), strings.Index(out, `"msg":"failed"`)
		if i < 0 || j < 0 || i > j || !strings.HasSuffix(out, "\n") || !strings.Contains(out, `"component":"test"`) {
			t.Errorf("level %v: not written at once, or out of order: %q", level, out)
		}
		lw.Close()
	}
}

// TestLogWriterBurstBeyondBound: a burst far beyond the buffer bound (and
// single lines larger than it) arrives complete and whole, without Flush;
// the buffer is written out synchronously on the way.
func TestLogWriterBurstBeyondBound(t *testing.T) {
	var under countingBuffer
	lw := newLogWriter(&under)
	want := map[string]bool{}
	var lines []string
	for i := range 20000 { // ~2.5 MiB
		lines = append(lines, fmt.Sprintf("line %06d %s", i, strings.Repeat("y", 120)))
	}
	lines = append(lines, "huge "+strings.Repeat("z", 3*logBufferMax))
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("after the huge one %d", i))
	}
	for _, l := range lines {
		want[l] = true
		if _, err := lw.Write([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	if under.count() == 0 {
		t.Fatal("2.5 MiB written and nothing flushed: the buffer is unbounded")
	}
	lw.mu.Lock()
	buffered := len(lw.buf)
	lw.mu.Unlock()
	if buffered > logBufferMax {
		t.Errorf("%d bytes buffered, bound %d", buffered, logBufferMax)
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	out := under.String()
	checkLines(t, out, want)
	// In order, too: one writer.
	if !strings.HasPrefix(out, "line 000000 ") || !strings.HasSuffix(out, "after the huge one 99\n") {
		t.Error("lines out of order")
	}
}

// TestLogWriterWriteAfterCloseWritesThrough: a goroutine that logs after run
// has returned (a worker finishing) is not lost: Write after Close writes
// straight to the underlying writer.
func TestLogWriterWriteAfterCloseWritesThrough(t *testing.T) {
	var under syncBuffer
	lw := newLogWriter(&under)
	lw.Write([]byte("before\n"))
	lw.Close()
	if n, err := lw.Write([]byte("late\n")); n != 5 || err != nil {
		t.Fatalf("Write after Close: %d, %v", n, err)
	}
	if got := under.String(); got != "before\nlate\n" {
		t.Fatalf("got %q", got)
	}
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write(p []byte) (int, error) { return 0, errors.New("broken stderr") }

// TestLogWriterBrokenUnderlying: a failing stderr neither blocks Write nor
// grows the buffer beyond its bound.
func TestLogWriterBrokenUnderlying(t *testing.T) {
	lw := newLogWriter(failingWriter{})
	defer lw.Close()
	line := bytes.Repeat([]byte("w"), 1000)
	for range 2000 {
		if _, err := lw.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	lw.mu.Lock()
	buffered := len(lw.buf)
	lw.mu.Unlock()
	if buffered > logBufferMax {
		t.Errorf("%d bytes buffered, bound %d", buffered, logBufferMax)
	}
}

package store

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/billgate/billgate/service"
)

// TestTranslateCutConnection: a connection cut under a query (PostgreSQL
// killed or restarted) is unavailable, not internal. pgx reports it as
// io.ErrUnexpectedEOF, wrapped or not (the end-to-end outage test in
// cmd/billgate sees it for real).
func TestTranslateCutConnection(t *testing.T) {
	for _, err := range []error{io.ErrUnexpectedEOF, fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF)} {
		if got := service.CodeOf(translate(context.Background(), err, about("client", 1))); got != service.CodeUnavailable {
			t.Errorf("%v: %s, want unavailable", err, got)
		}
	}
}

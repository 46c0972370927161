package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

// claimAt is a record first used at `at` for 24 hours.
func claimAt(scope, key, hash string, at time.Time) *service.IdempotencyRecord {
	return &service.IdempotencyRecord{Scope: scope, Key: key, Method: "clients.create", ParamsHash: hash,
		CreatedAt: at, ExpiresAt: at.Add(service.IdempotencyTTL)}
}

func TestIdempotencyClaim(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := testCtx(t, nil) // unscoped: the record's Scope is its owner
		t0 := time.Date(2025, 1, 1, 12, 0, 0, 123456789, time.UTC)
		stale := func(now time.Time) time.Time { return now.Add(-service.IdempotencyStale) }
		claim := func(rec *service.IdempotencyRecord) *service.IdempotencyRecord {
			t.Helper()
			held, err := st.ClaimIdempotencyKey(ctx, rec, stale(rec.CreatedAt))
			if err != nil {
				t.Fatal(err)
			}
			return held
		}

		first := claimAt("u1:live", "k1", "h1", t0)
		if held := claim(first); held != nil {
			t.Fatalf("first claim returned a holder: %+v", held)
		}
		if !first.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
			t.Errorf("claim time not normalised: %v", first.CreatedAt)
		}
		// A second claim, a minute later with other params, gets the holder in flight.
		held := claim(claimAt("u1:live", "k1", "h2", t0.Add(time.Minute)))
		if held == nil || held.ParamsHash != "h1" || held.Method != "clients.create" || held.Response != nil ||
			!held.CreatedAt.Equal(first.CreatedAt) || !held.ExpiresAt.Equal(first.ExpiresAt) {
			t.Fatalf("second claim: %+v", held)
		}
		// The same key of another owner is another key.
		if held := claim(claimAt("u2:live", "k1", "h9", t0)); held != nil {
			t.Errorf("another owner's key: %+v", held)
		}
		if held := claim(claimAt("u1:test", "k1", "h9", t0)); held != nil {
			t.Errorf("the same user's key in test mode: %+v", held)
		}

		// Completed: the response is replayed, and it is not stale after 5 minutes.
		first.Response = json.RawMessage(`{"id":7,"name":"Acme"}`)
		if err := st.CompleteIdempotencyKey(ctx, first); err != nil {
			t.Fatal(err)
		}
		held = claim(claimAt("u1:live", "k1", "h1", t0.Add(time.Hour)))
		if held == nil || string(held.Response) != `{"id":7,"name":"Acme"}` {
			t.Fatalf("after completion: %+v", held)
		}
		// Releasing a completed key does nothing.
		if err := st.ReleaseIdempotencyKey(ctx, first); err != nil {
			t.Fatal(err)
		}
		if held := claim(claimAt("u1:live", "k1", "h1", t0.Add(2*time.Hour))); held == nil || held.Response == nil {
			t.Fatalf("completed key released: %+v", held)
		}
		// Expired: claimed anew.
		later := claimAt("u1:live", "k1", "h3", t0.Add(service.IdempotencyTTL))
		if held := claim(later); held != nil {
			t.Fatalf("claim of an expired key: %+v", held)
		}
		if held := claim(claimAt("u1:live", "k1", "h1", later.CreatedAt.Add(time.Second))); held == nil || held.ParamsHash != "h3" || held.Response != nil {
			t.Fatalf("the new claim does not hold the key: %+v", held)
		}
	})
}

func TestIdempotencyStaleClaimsAndRelease(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := testCtx(t, nil)
		t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
		a := claimAt("u1:live", "k", "ha", t0)
		if held, err := st.ClaimIdempotencyKey(ctx, a, t0.Add(-service.IdempotencyStale)); err != nil || held != nil {
			t.Fatalf("claim a: %+v, %v", held, err)
		}
		// Four minutes later the claim is still in flight (not stale).
		at := t0.Add(4 * time.Minute)
		held, err := st.ClaimIdempotencyKey(ctx, claimAt("u1:live", "k", "hb", at), at.Add(-service.IdempotencyStale))
		if err != nil || held == nil || held.ParamsHash != "ha" {
			t.Fatalf("claim within the stale window: %+v, %v", held, err)
		}
		// Six minutes later it is stale: b takes the key over.
		at = t0.Add(6 * time.Minute)
		b := claimAt("u1:live", "k", "hb", at)
		if held, err := st.ClaimIdempotencyKey(ctx, b, at.Add(-service.IdempotencyStale)); err != nil || held != nil {
			t.Fatalf("claim of a stale key: %+v, %v", held, err)
		}
		// a's late outcome must not touch b's claim: its release leaves it, and
		// its completion is refused (rolling a's work back).
		if err := st.ReleaseIdempotencyKey(ctx, a); err != nil {
			t.Fatal(err)
		}
		a.Response = json.RawMessage(`{"late":true}`)
		err = st.InTx(ctx, func(ctx context.Context) error { return st.CompleteIdempotencyKey(ctx, a) })
		wantCode(t, err, service.CodeConflict)
		held, err = st.ClaimIdempotencyKey(ctx, claimAt("u1:live", "k", "hc", at.Add(time.Second)), at.Add(-time.Minute))
		if err != nil || held == nil || held.ParamsHash != "hb" || held.Response != nil {
			t.Fatalf("b's claim after a's late outcome: %+v, %v", held, err)
		}
		// b fails: its release frees the key at once.
		if err := st.ReleaseIdempotencyKey(ctx, b); err != nil {
			t.Fatal(err)
		}
		c := claimAt("u1:live", "k", "hc", at.Add(time.Second))
		if held, err := st.ClaimIdempotencyKey(ctx, c, at.Add(-time.Minute)); err != nil || held != nil {
			t.Fatalf("claim after release: %+v, %v", held, err)
		}
		// Completion inside the method's transaction rolls back with it.
		c.Response = json.RawMessage(`{"ok":true}`)
		boom := fmt.Errorf("boom")
		_ = st.InTx(ctx, func(ctx context.Context) error {
			if err := st.CompleteIdempotencyKey(ctx, c); err != nil {
				return err
			}
			return boom
		})
		held, err = st.ClaimIdempotencyKey(ctx, claimAt("u1:live", "k", "hd", at.Add(2*time.Second)), at.Add(-time.Minute))
		if err != nil || held == nil || held.ParamsHash != "hc" || held.Response != nil {
			t.Fatalf("after a rolled-back completion: %+v, %v", held, err)
		}
	})
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := testCtx(t, nil)
		t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
		for round, key := range []string{"fresh", "stale"} {
			if key == "stale" { // an abandoned claim that every contender may take over
				old := claimAt("u1:live", key, "abandoned", t0.Add(-time.Hour))
				if held, err := st.ClaimIdempotencyKey(ctx, old, old.CreatedAt); err != nil || held != nil {
					t.Fatalf("seed the stale claim: %+v, %v", held, err)
				}
			}
			const callers = 20
			held := make([]*service.IdempotencyRecord, callers)
			errs := make([]error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					rec := claimAt("u1:live", key, fmt.Sprintf("h%02d", i), t0)
					held[i], errs[i] = st.ClaimIdempotencyKey(ctx, rec, t0.Add(-service.IdempotencyStale))
				})
			}
			wg.Wait()
			winner := -1
			for i := range callers {
				if errs[i] != nil {
					t.Fatalf("round %d: caller %d: %v", round, i, errs[i])
				}
				if held[i] == nil {
					if winner >= 0 {
						t.Fatalf("round %d: callers %d and %d both claimed the key", round, winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: nobody claimed the key", round)
			}
			for i := range callers {
				if i != winner && held[i].ParamsHash != fmt.Sprintf("h%02d", winner) {
					t.Errorf("round %d: caller %d sees holder %q, the winner was %d", round, i, held[i].ParamsHash, winner)
				}
			}
		}
	})
}

func TestPurgeIdempotencyKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		ctx := testCtx(t, nil)
		t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		for i, at := range []time.Time{t0, t0.Add(time.Hour), t0.Add(48 * time.Hour)} {
			if held, err := st.ClaimIdempotencyKey(ctx, claimAt("u1:live", fmt.Sprint("p", i), "h", at), at.Add(-service.IdempotencyStale)); err != nil || held != nil {
				t.Fatalf("claim %d: %v %v", i, held, err)
			}
		}
		// At t0+25h the first two (24 h keys) have expired, the third has not.
		n, err := st.PurgeIdempotencyKeys(ctx, t0.Add(25*time.Hour+time.Second))
		if err != nil || n != 2 {
			t.Fatalf("purged %d, %v; want 2", n, err)
		}
		held, err := st.ClaimIdempotencyKey(ctx, claimAt("u1:live", "p2", "other", t0.Add(49*time.Hour)), t0)
		if err != nil || held == nil || held.ParamsHash != "h" {
			t.Errorf("the unexpired key was purged: %+v %v", held, err)
		}
	})
}

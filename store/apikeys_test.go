package store_test

import (
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

func TestAPIKeyCRUD(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		exp := time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.FixedZone("X", 3*3600))
		k := &service.APIKey{UsersID: f.uA1.ID, Mode: service.ModeTest, Prefix: "test_abcdefg", Hash: "crud-hash",
			Key: "test_abcdefg-secret", ExpiresAt: &exp}
		if err := st.CreateAPIKey(f.onlyA, k); err != nil {
			t.Fatal(err)
		}
		if k.ID == 0 || k.Key != "test_abcdefg-secret" {
			t.Fatalf("created %+v: want an id and the secret kept for the reply", k)
		}
		wantUTCMicro(t, "CreatedAt", k.CreatedAt)
		wantUTCMicro(t, "ExpiresAt", *k.ExpiresAt)
		if !k.ExpiresAt.Equal(exp.Truncate(time.Microsecond)) {
			t.Errorf("ExpiresAt %v, want %v", k.ExpiresAt, exp)
		}
		got, err := st.FindAPIKey(f.onlyA, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.UsersID != f.uA1.ID || got.Mode != service.ModeTest || got.Prefix != k.Prefix || got.Hash != k.Hash ||
			got.Key != "" || !got.ExpiresAt.Equal(*k.ExpiresAt) || got.LastUsedAt != nil || !got.CreatedAt.Equal(k.CreatedAt) {
			t.Fatalf("found %+v, created %+v", got, k)
		}

		byHash, err := st.APIKeyByHash(testCtx(t, nil), "crud-hash")
		if err != nil || byHash.ID != k.ID {
			t.Fatalf("APIKeyByHash: %+v, %v", byHash, err)
		}
		used := time.Date(2025, 5, 6, 7, 8, 9, 999, time.Local)
		if err := st.TouchAPIKey(testCtx(t, nil), k.ID, used); err != nil {
			t.Fatal(err)
		}
		got, err = st.FindAPIKey(f.admin, k.ID)
		if err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(used.Truncate(time.Microsecond)) {
			t.Fatalf("after touch: %+v, %v", got, err)
		}
		wantUTCMicro(t, "LastUsedAt", *got.LastUsedAt)
		wantCode(t, st.TouchAPIKey(testCtx(t, nil), k.ID+1000, used), service.CodeNotFound)

		q := service.Query{Filters: []service.Filter{{Field: "users_id", Values: []any{f.uA1.ID}}}, Limit: 10,
			Order: []service.Order{{Field: "id"}}}
		keys, err := st.SearchAPIKeys(f.onlyA, q)
		if err != nil || len(keys) != 3 || keys[2].ID != k.ID {
			t.Fatalf("keys of user-a1: %d, %v", len(keys), err)
		}

		if err := st.DeleteAPIKey(f.onlyA, k.ID); err != nil {
			t.Fatal(err)
		}
		_, err = st.APIKeyByHash(f.admin, "crud-hash")
		wantCode(t, err, service.CodeNotFound)
		wantCode(t, st.DeleteAPIKey(f.onlyA, k.ID), service.CodeNotFound)
	})
}

func TestAPIKeyForMissingUserIsNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		err := st.CreateAPIKey(f.admin, &service.APIKey{UsersID: f.uB.ID + 1000, Mode: "live", Prefix: "p", Hash: "orphan"})
		wantCode(t, err, service.CodeNotFound)
	})
}

func TestDuplicateKeyHashIsAConflict(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		dup := f.keys["user-b/live"]
		err := st.CreateAPIKey(f.admin, &service.APIKey{UsersID: f.uA.ID, Mode: "live", Prefix: "p", Hash: dup.Hash})
		wantCode(t, err, service.CodeConflict)
		if _, ok := service.AsError(err).Fields["hash"]; !ok {
			t.Errorf("fields %v do not name hash", service.AsError(err).Fields)
		}
	})
}

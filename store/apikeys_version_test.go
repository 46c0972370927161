package store_test

import (
	"testing"
	"time"

	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

// TestAPIKeyVersion: a key keeps the API version it is pinned to, and
// UpdateAPIKey changes it (and the expiry) within the principal's scope.
func TestAPIKeyVersion(t *testing.T) {
	forEachDB(t, func(t *testing.T, st *store.Store) {
		f := seed(t, st)
		k := &service.APIKey{UsersID: f.uA1.ID, Mode: service.ModeLive, Prefix: "live_version", Hash: "version-hash",
			APIVersion: service.LegacyVersion}
		if err := st.CreateAPIKey(f.onlyA, k); err != nil {
			t.Fatal(err)
		}
		if k.APIVersion != service.LegacyVersion {
			t.Fatalf("created %+v", k)
		}
		byHash, err := st.APIKeyByHash(testCtx(t, nil), "version-hash")
		if err != nil || byHash.APIVersion != service.LegacyVersion {
			t.Fatalf("APIKeyByHash: %+v, %v", byHash, err)
		}

		exp := time.Date(2031, 2, 3, 4, 5, 6, 7000, time.FixedZone("X", -5*3600))
		k.APIVersion, k.ExpiresAt = "2026-11-21", &exp
		if err := st.UpdateAPIKey(f.onlyA, k, []string{"api_version", "expires_at"}); err != nil {
			t.Fatal(err)
		}
		wantUTCMicro(t, "ExpiresAt", *k.ExpiresAt)
		got, err := st.FindAPIKey(f.admin, k.ID)
		if err != nil || got.APIVersion != "2026-11-21" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.Hash != "version-hash" {
			t.Fatalf("after update: %+v, %v", got, err)
		}
		// Only the fields named change.
		k.APIVersion, k.ExpiresAt = service.LegacyVersion, nil
		if err := st.UpdateAPIKey(f.onlyA, k, []string{"api_version"}); err != nil {
			t.Fatal(err)
		}
		if got, _ = st.FindAPIKey(f.admin, k.ID); got.APIVersion != service.LegacyVersion || got.ExpiresAt == nil {
			t.Fatalf("after updating the version only: %+v", got)
		}

		// Out of scope: another subtree, a live key for a test principal.
		wantCode(t, st.UpdateAPIKey(f.onlyB, k, []string{"api_version"}), service.CodeNotFound)
		wantCode(t, st.UpdateAPIKey(f.adminTest, k, []string{"api_version"}), service.CodeNotFound)
		test := f.keys["user-a1/test"]
		test.APIVersion = service.LegacyVersion
		if err := st.UpdateAPIKey(f.adminTest, test, []string{"api_version"}); err != nil {
			t.Errorf("test principal, test key: %v", err)
		}
		wantCode(t, st.UpdateAPIKey(f.admin, &service.APIKey{ID: k.ID + 1000, APIVersion: "x"}, []string{"api_version"}), service.CodeNotFound)
		// Other fields cannot be updated.
		wantCode(t, st.UpdateAPIKey(f.admin, k, []string{"hash"}), service.CodeInternal)
	})
}

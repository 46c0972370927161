package main

import "testing"

// The parity, isolation and mode rows of the API-version methods
// (iam.api_keys.update, system.versions), merged into the registry-wide tables.
func init() {
	for k, v := range versionParity {
		parityCases[k] = v
	}
	for k, v := range versionIsolation {
		isolationCases[k] = v
	}
	for k, v := range versionModes {
		modeCases[k] = v
	}
}

var versionParity = map[string]parityCase{
	"iam.api_keys.update": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		var k keyReply
		w.s.ok(t, keyAuth(w.keyA), "iam.api_keys.create", map[string]any{"users_id": w.uA1, "mode": "test"}, &k)
		return keyAuth(w.keyA), map[string]any{"id": k.ID, "api_version": "legacy", "expires_at": "2031-02-03 04:05:06"},
			[]string{"id", "prefix", "created_at", "last_used_at"}
	},
	"system.versions": func(t *testing.T, w *world) (auth, map[string]any, []string) {
		return auth{}, map[string]any{}, nil
	},
}

var versionIsolation = map[string]isoCase{
	"system.versions": nil,
	"iam.api_keys.update": func(t *testing.T, w *world, call caller) {
		var keys []idOnly
		w.s.ok(t, keyAuth(w.admin), "iam.api_keys.search", map[string]any{"users_id": w.uB}, &keys)
		if len(keys) == 0 {
			t.Fatal("B has no keys")
		}
		wantNotFound(t, call("iam.api_keys.update", map[string]any{"id": keys[0].ID, "api_version": "legacy"}), "repin B's key")
	},
}

var versionModes = map[string]isoCase{
	"system.versions": nil,
	// Keys have no live_mode, but a test key sees only test keys.
	"iam.api_keys.update": func(t *testing.T, w *world, call caller) {
		var keys []struct {
			ID   int64  `json:"id"`
			Mode string `json:"mode"`
		}
		w.s.ok(t, keyAuth(w.admin), "iam.api_keys.search", map[string]any{"users_id": w.uA, "mode": "live"}, &keys)
		if len(keys) == 0 || keys[0].Mode != "live" {
			t.Fatalf("A has no live key: %+v", keys)
		}
		wantNotFound(t, call("iam.api_keys.update", map[string]any{"id": keys[0].ID, "api_version": "legacy"}), "repin a live key")
	},
}

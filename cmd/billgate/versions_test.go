package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// legacyIstanbul is a JeraSoft datetime in Europe/Istanbul (+03:00 all year).
var legacyIstanbul = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0300$`)

// viaTransport makes one call over one of the three transports.
type viaTransport func(t *testing.T, a auth, method string, params map[string]any) reply

// allTransports are REST, JSON-RPC over HTTP and JSON-RPC over WebSocket.
func allTransports(t *testing.T, s *server) map[string]viaTransport {
	reg := registry(t)
	return map[string]viaTransport{
		"rest": func(t *testing.T, a auth, method string, params map[string]any) reply {
			m, ok := reg.Lookup(method)
			if !ok {
				t.Fatalf("no method %s", method)
			}
			return s.rest(t, a, m, params)
		},
		"jsonrpc": func(t *testing.T, a auth, method string, params map[string]any) reply {
			return s.rpc(t, a, method, params)
		},
		"ws": func(t *testing.T, a auth, method string, params map[string]any) reply {
			return s.ws(t, a, method, params)
		},
	}
}

// resultObject decodes an object result (failing on an error).
func resultObject(t *testing.T, what string, r reply) map[string]any {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s: %d %s %s", what, r.Err.Code, r.Err.Message, r.Err.Data)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Result, &m); err != nil {
		t.Fatalf("%s: result %s is not an object", what, r.Result)
	}
	return m
}

func resultRows(t *testing.T, what string, r reply) []map[string]any {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s: %d %s", what, r.Err.Code, r.Err.Message)
	}
	var out []map[string]any
	if err := json.Unmarshal(r.Result, &out); err != nil {
		t.Fatalf("%s: result %s is not a list", what, r.Result)
	}
	return out
}

// isRowCount reports whether r is legacy's answer to an update: 1 (one row changed).
func isRowCount(r reply) bool {
	return r.Err == nil && strings.TrimSpace(string(r.Result)) == "1"
}

func wantVersion(t *testing.T, what string, r reply, v string) {
	t.Helper()
	if got := r.Header.Get("X-Api-Version"); got != v {
		t.Errorf("%s: X-Api-Version %q, want %q", what, got, v)
	}
}

// wantLegacyTimes checks that the named members are JeraSoft datetimes
// matching re (null allowed where nullable).
func wantLegacyTimes(t *testing.T, what string, obj map[string]any, re *regexp.Regexp, names ...string) {
	t.Helper()
	for _, n := range names {
		v, ok := obj[n]
		if !ok {
			t.Errorf("%s: no %s in %v", what, n, obj)
			continue
		}
		if s, _ := v.(string); v != nil && !re.MatchString(s) {
			t.Errorf("%s: %s = %v, want the JeraSoft format (%s)", what, n, v, re)
		}
	}
}

// wantRFC3339 checks that the named members are RFC 3339 datetimes with offset.
func wantRFC3339(t *testing.T, what string, obj map[string]any, offset string, names ...string) {
	t.Helper()
	for _, n := range names {
		s, _ := obj[n].(string)
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, offset) {
			t.Errorf("%s: %s = %v, want RFC 3339 ending %s", what, n, obj[n], offset)
		}
	}
}

// TestAPIVersions: a key pinned to legacy gets JeraSoft datetimes and row
// counts from the same methods on all three transports; a key on the latest
// version does not; X-Api-Version overrides the key's version both ways; an
// unknown version is refused naming X-Api-Version.
func TestAPIVersions(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		ad := keyAuth(adminKey)
		var u idOnly
		s.ok(t, ad, "iam.users.create", map[string]any{"login": uniq("jera"), "password": "jerasoft-1", "timezone": "Europe/Istanbul"}, &u)
		var lk, nk struct {
			ID         int64  `json:"id"`
			Key        string `json:"key"`
			APIVersion string `json:"api_version"`
		}
		s.ok(t, ad, "iam.api_keys.create", map[string]any{"users_id": u.ID, "api_version": "legacy"}, &lk)
		s.ok(t, ad, "iam.api_keys.create", map[string]any{"users_id": u.ID}, &nk)
		if lk.APIVersion != "legacy" || nk.APIVersion != "2026-11-21" {
			t.Fatalf("keys pinned to %q and %q", lk.APIVersion, nk.APIVersion)
		}
		legacy, latest := keyAuth(lk.Key), keyAuth(nk.Key)
		var client idOnly
		s.ok(t, latest, "clients.create", map[string]any{"name": uniq("jera client"), "currency": "USD"}, &client)
		newYork := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d-0[45]00$`)

		for name, call := range allTransports(t, s) {
			t.Run(name, func(t *testing.T) {
				// A get: datetimes in the user's zone, JeraSoft style.
				r := call(t, legacy, "iam.users.get", map[string]any{"id": u.ID})
				wantLegacyTimes(t, "legacy get", resultObject(t, "legacy get", r), legacyIstanbul, "created_at", "updated_at")
				wantVersion(t, "legacy get", r, "legacy")
				// A list, with nullable datetimes (null stays null).
				for _, row := range resultRows(t, "legacy search", call(t, legacy, "iam.api_keys.search", map[string]any{"users_id": u.ID})) {
					wantLegacyTimes(t, "legacy search", row, legacyIstanbul, "created_at", "expires_at", "last_used_at")
				}
				// __tz still decides the zone.
				r = call(t, legacy, "clients.get", map[string]any{"id": client.ID, "__tz": "America/New_York"})
				wantLegacyTimes(t, "legacy get with __tz", resultObject(t, "legacy get with __tz", r), newYork, "created_at", "updated_at")
				// Updates return the number of rows changed.
				for method, params := range map[string]map[string]any{
					"iam.users.update": {"id": u.ID, "allowed_ips": []string{}},
					"clients.update":   {"id": client.ID, "credit": 5},
				} {
					if r := call(t, legacy, method, params); r.Err != nil || !isRowCount(r) {
						t.Errorf("legacy %s: %+v %s, want 1", method, r.Err, r.Result)
					}
				}
				// A missing object is still an error.
				wantNotFound(t, call(t, legacy, "clients.update", map[string]any{"id": 999999, "credit": 5}), "legacy update of nothing")

				// The latest version: RFC 3339, objects from updates.
				r = call(t, latest, "iam.users.get", map[string]any{"id": u.ID})
				wantRFC3339(t, "latest get", resultObject(t, "latest get", r), "+03:00", "created_at", "updated_at")
				wantVersion(t, "latest get", r, "2026-11-21")
				if obj := resultObject(t, "latest update", call(t, latest, "clients.update", map[string]any{"id": client.ID, "credit": 6})); obj["id"] != float64(client.ID) {
					t.Errorf("latest update: %v", obj)
				}

				// X-Api-Version overrides the key's version, both ways.
				up := auth{key: lk.Key, header: map[string]string{"X-Api-Version": "2026-11-21"}}
				r = call(t, up, "iam.users.get", map[string]any{"id": u.ID})
				wantRFC3339(t, "legacy key asking for 2026-11-21", resultObject(t, "override", r), "+03:00", "created_at")
				wantVersion(t, "legacy key asking for 2026-11-21", r, "2026-11-21")
				down := auth{key: nk.Key, header: map[string]string{"X-Api-Version": "legacy"}}
				r = call(t, down, "iam.users.update", map[string]any{"id": u.ID, "allowed_ips": []string{}})
				if r.Err != nil || !isRowCount(r) {
					t.Errorf("latest key asking for legacy: %+v %s", r.Err, r.Result)
				}
				wantVersion(t, "latest key asking for legacy", r, "legacy")

				// An unknown version is refused, naming the header.
				bad := auth{key: nk.Key, header: map[string]string{"X-Api-Version": "2017-10-17"}}
				r = call(t, bad, "iam.users.get", map[string]any{"id": u.ID})
				if r.Err == nil || r.Err.Code != -32602 || r.Err.field("X-Api-Version") == "" {
					t.Errorf("unknown version: %+v", r.Err)
				}
				if name != "jsonrpc" && r.Status != http.StatusBadRequest {
					t.Errorf("unknown version: HTTP %d, want 400", r.Status)
				}
			})
		}
	})
}

// TestAPIVersionsOfSessions: calls without a key, and JWT sessions, get the
// latest version unless they ask for another; responses always say which.
func TestAPIVersionsOfSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		var u idOnly
		login := uniq("jwtuser")
		s.ok(t, keyAuth(adminKey), "iam.users.create", map[string]any{"login": login, "password": "jwt-user-1", "timezone": "Europe/Istanbul"}, &u)
		var tok struct {
			Token string `json:"token"`
		}
		s.ok(t, auth{}, "iam.auth.jwt.authenticate", map[string]any{"login": login, "password": "jwt-user-1"}, &tok)
		for name, call := range allTransports(t, s) {
			t.Run(name, func(t *testing.T) {
				wantVersion(t, "public call", call(t, auth{}, "system.version", map[string]any{}), "2026-11-21")
				asLegacy := auth{header: map[string]string{"X-Api-Version": "legacy"}}
				wantVersion(t, "public call asking for legacy", call(t, asLegacy, "system.version", map[string]any{}), "legacy")

				r := call(t, auth{bearer: tok.Token}, "iam.users.get", map[string]any{"id": u.ID})
				wantRFC3339(t, "JWT", resultObject(t, "JWT", r), "+03:00", "created_at")
				wantVersion(t, "JWT", r, "2026-11-21")
				r = call(t, auth{bearer: tok.Token, header: map[string]string{"X-Api-Version": "legacy"}}, "iam.users.get", map[string]any{"id": u.ID})
				wantLegacyTimes(t, "JWT asking for legacy", resultObject(t, "JWT asking for legacy", r), legacyIstanbul, "created_at")
				// A token's expiry is a datetime like any other.
				r = call(t, asLegacy, "iam.auth.jwt.authenticate", map[string]any{"login": login, "password": "jwt-user-1"})
				wantLegacyTimes(t, "legacy token", resultObject(t, "legacy token", r), regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[-+]\d{4}$`), "expires_at")
			})
		}
	})
}

// TestAPIKeyPinning: iam.api_keys.update pins a key to a version (REST PATCH
// /iam/api-keys/:id), which its calls then get; unknown versions are refused.
func TestAPIKeyPinning(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		ad := keyAuth(adminKey)
		var k keyReply
		s.ok(t, ad, "iam.api_keys.create", map[string]any{"users_id": 1}, &k)
		status, h, body := s.raw(t, ad, "PATCH", "/iam/api-keys/"+itoa64(k.ID), "application/json", []byte(`{"api_version":"legacy"}`))
		if status != 200 || !strings.Contains(string(body), `"api_version":"legacy"`) || strings.Contains(string(body), `"key"`) {
			t.Fatalf("PATCH /iam/api-keys/%d: %d %s", k.ID, status, body)
		}
		wantVersion(t, "the admin's call", reply{Header: h}, "2026-11-21")
		r := s.rpc(t, keyAuth(k.Key), "iam.users.get", map[string]any{"id": 1})
		wantLegacyTimes(t, "repinned key", resultObject(t, "repinned key", r), regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0000$`), "created_at")
		wantVersion(t, "repinned key", r, "legacy")
		// JeraSoft datetimes are read as they are written.
		r = s.rpc(t, keyAuth(k.Key), "iam.api_keys.update", map[string]any{"id": k.ID, "expires_at": "2031-10-17 16:48:50+0300"})
		if !isRowCount(r) {
			t.Fatalf("legacy update with a JeraSoft datetime: %+v %s", r.Err, r.Result)
		}
		var got struct {
			ExpiresAt string `json:"expires_at"`
		}
		s.ok(t, ad, "iam.api_keys.update", map[string]any{"id": k.ID}, &got)
		if got.ExpiresAt != "2031-10-17T13:48:50Z" {
			t.Errorf("expires_at %q, want 2031-10-17T13:48:50Z", got.ExpiresAt)
		}
		// The key's own call, in legacy, pins it back (and gets a row count).
		r = s.rpc(t, keyAuth(k.Key), "iam.api_keys.update", map[string]any{"id": k.ID, "api_version": "2026-11-21"})
		if r.Err != nil || !isRowCount(r) {
			t.Fatalf("repin from legacy: %+v %s", r.Err, r.Result)
		}
		wantVersion(t, "pinned back", s.rpc(t, keyAuth(k.Key), "system.version", map[string]any{}), "2026-11-21")
		// Unknown versions, on update and create.
		for _, r := range []reply{
			s.rpc(t, ad, "iam.api_keys.update", map[string]any{"id": k.ID, "api_version": "2020-01-01"}),
			s.rpc(t, ad, "iam.api_keys.create", map[string]any{"users_id": 1, "api_version": "latest"}),
		} {
			if r.Err == nil || r.Err.Code != -32602 || !strings.Contains(r.Err.field("api_version"), "legacy, 2026-11-21") {
				t.Errorf("unknown api_version: %+v", r.Err)
			}
		}
		wantCode(t, s.rpc(t, ad, "iam.api_keys.update", map[string]any{"id": k.ID, "expires_at": "2001-01-01T00:00:00Z"}), "invalid_params", "expiry in the past")
		var upd struct {
			ExpiresAt string `json:"expires_at"`
		}
		s.ok(t, ad, "iam.api_keys.update", map[string]any{"id": k.ID, "expires_at": "2040-01-02T03:04:05Z"}, &upd)
		if upd.ExpiresAt != "2040-01-02T03:04:05Z" {
			t.Errorf("expires_at %q", upd.ExpiresAt)
		}
	})
}

// TestLegacyCreatesAndReplays: a legacy create over REST keeps its 201 and
// Location, and a replayed idempotent create is rewritten like a fresh one.
func TestLegacyCreatesAndReplays(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *server) {
		var u idOnly
		s.ok(t, keyAuth(adminKey), "iam.users.create", map[string]any{"login": uniq("jera"), "password": "jerasoft-1", "timezone": "Europe/Istanbul"}, &u)
		var k keyReply
		s.ok(t, keyAuth(adminKey), "iam.api_keys.create", map[string]any{"users_id": u.ID, "api_version": "legacy"}, &k)
		legacy := keyAuth(k.Key)
		status, h, body := s.raw(t, legacy, "POST", "/clients", "application/json", []byte(`{"name":"legacy co"}`))
		var c map[string]any
		if status != 201 || json.Unmarshal(body, &c) != nil || !strings.HasSuffix(h.Get("Location"), "/clients/"+itoa64(int64(c["id"].(float64)))) {
			t.Fatalf("legacy REST create: %d %s Location %q", status, body, h.Get("Location"))
		}
		wantLegacyTimes(t, "legacy create", c, legacyIstanbul, "created_at", "updated_at")
		// Link headers of pages hold for legacy lists.
		status, h, _ = s.raw(t, legacy, "GET", "/iam/users?limit=1", "", nil)
		if status != 200 || !strings.Contains(h.Get("Link"), `rel="next"`) {
			t.Errorf("legacy page: %d Link %q", status, h.Get("Link"))
		}
		params := map[string]any{"name": "replayed co", "__idempotency_key": uniq("idem")}
		first, again := s.rpc(t, legacy, "clients.create", params), s.rpc(t, legacy, "clients.create", params)
		if first.Err != nil || again.Err != nil || string(first.Result) != string(again.Result) {
			t.Fatalf("replay: %+v %s / %+v %s", first.Err, first.Result, again.Err, again.Result)
		}
		wantLegacyTimes(t, "replayed create", resultObject(t, "replay", again), legacyIstanbul, "created_at", "updated_at")
	})
}

// TestSystemVersions: system.versions (GET /versions) lists the versions,
// oldest first, with the changes each introduced and their sunset dates.
func TestSystemVersions(t *testing.T) {
	s := startServer(t, "sqlite://"+t.TempDir()+"/v.db", nil)
	status, h, body := s.raw(t, auth{header: map[string]string{"X-Api-Version": "legacy"}}, "GET", "/versions", "", nil)
	var v struct {
		Latest   string `json:"latest"`
		Current  string `json:"current"`
		Versions []struct {
			Version  string  `json:"version"`
			Released *string `json:"released"`
			Latest   bool    `json:"latest"`
			Sunset   *string `json:"sunset"`
			Changes  []struct {
				Description string   `json:"description"`
				Methods     []string `json:"methods"`
			} `json:"changes"`
		} `json:"versions"`
	}
	if status != 200 || json.Unmarshal(body, &v) != nil || h.Get("X-Api-Version") != "legacy" {
		t.Fatalf("GET /versions: %d %s", status, body)
	}
	if v.Latest != "2026-11-21" || v.Current != "legacy" || len(v.Versions) != 2 {
		t.Fatalf("versions: %s", body)
	}
	lg, cur := v.Versions[0], v.Versions[1]
	if lg.Version != "legacy" || lg.Released != nil || lg.Sunset == nil || *lg.Sunset != "2027-05-21" || lg.Latest {
		t.Errorf("legacy: %s", body)
	}
	if cur.Version != "2026-11-21" || cur.Released == nil || *cur.Released != "2026-11-21" || cur.Sunset != nil || !cur.Latest || len(cur.Changes) != 2 {
		t.Errorf("2026-11-21: %s", body)
	}
	var all, updates bool
	for _, c := range cur.Changes {
		if strings.Contains(c.Description, "RFC 3339") && c.Methods == nil {
			all = true
		}
		if strings.Contains(c.Description, "*.update") && strings.Contains(strings.Join(c.Methods, ","), "iam.api_keys.update") &&
			strings.Contains(strings.Join(c.Methods, ","), "clients.update") {
			updates = true
		}
	}
	if !all || !updates {
		t.Errorf("the changes of 2026-11-21: %s", body)
	}
}

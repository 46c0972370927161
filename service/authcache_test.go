package service

import (
	"testing"
	"time"
)

func TestAuthCache(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newAuthCache(5 * time.Second)
	k, u := &APIKey{ID: 1}, &User{ID: 7, Status: UserActive}
	c.putKey(c.generation(), "h", k, u, t0)
	if got, gu, ok := c.key("h", t0.Add(4*time.Second)); !ok || got.ID != 1 || gu.ID != 7 {
		t.Fatalf("fresh entry missed: %v %v %v", got, gu, ok)
	}
	if _, _, ok := c.key("h", t0.Add(5*time.Second)); ok {
		t.Error("entry served at its TTL")
	}
	// A copy is returned: changing it does not change the cache.
	got, _, _ := c.key("h", t0)
	got.ID = 99
	if again, _, _ := c.key("h", t0); again.ID != 1 {
		t.Error("cached key changed through a returned copy")
	}
	// touched updates last_used_at.
	c.touched("h", t0.Add(time.Second))
	if again, _, _ := c.key("h", t0); again.LastUsedAt == nil || !again.LastUsedAt.Equal(t0.Add(time.Second)) {
		t.Error("touch not recorded")
	}
	// clear drops everything, and a lookup that started before the clear is not stored.
	gen := c.generation()
	c.clear()
	if _, _, ok := c.key("h", t0); ok {
		t.Error("clear kept a key")
	}
	c.putKey(gen, "h", k, u, t0)
	c.putUser(gen, u, t0)
	if _, _, ok := c.key("h", t0); ok {
		t.Error("a lookup older than the clear was cached")
	}
	if _, ok := c.user(7, t0); ok {
		t.Error("a user lookup older than the clear was cached")
	}
	c.putUser(c.generation(), u, t0)
	if got, ok := c.user(7, t0.Add(time.Second)); !ok || got.ID != 7 {
		t.Error("user entry missed")
	}
	// TTL 0 turns it off.
	off := newAuthCache(0)
	off.putKey(off.generation(), "h", k, u, t0)
	if _, _, ok := off.key("h", t0); ok {
		t.Error("disabled cache served an entry")
	}
}

func TestAffectsAuth(t *testing.T) {
	s := New(Config{}, nil, nil, nil)
	for name, want := range map[string]bool{
		"iam.api_keys.delete": true, "iam.users.update": true, "resellers.update": true, "iam.users.create": true,
		"iam.users.get": false, "clients.update": false, "resellers.search": false, "system.version": false,
	} {
		m, ok := s.Registry().Lookup(name)
		if !ok {
			t.Fatalf("no method %s", name)
		}
		if affectsAuth(m) != want {
			t.Errorf("affectsAuth(%s) = %v", name, !want)
		}
	}
}

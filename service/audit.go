package service

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry records one change: who made it (user, key), when, in which
// request and method, to what, and what changed.
type AuditEntry struct {
	ID          int64          `json:"id"`
	CreatedAt   time.Time      `json:"created_at"`
	UsersID     *int64         `json:"users_id"`
	APIKeysID   *int64         `json:"api_keys_id"`
	RequestID   string         `json:"request_id"`
	Method      string         `json:"method"`
	Entity      string         `json:"entity"`
	EntityID    string         `json:"entity_id"`
	Action      string         `json:"action" enum:"create,update,delete"`
	Changes     map[string]any `json:"changes"`
	LiveMode    bool           `json:"live_mode"`
	ResellersID *int64         `json:"resellers_id"`
}

// AuditStore keeps the audit trail.
type AuditStore interface {
	// RecordAudit appends e (in the caller's transaction, when there is one).
	RecordAudit(ctx context.Context, e *AuditEntry) error
	// SearchAudit lists entries in the principal's reseller subtree and mode.
	SearchAudit(ctx context.Context, q Query) ([]*AuditEntry, error)
}

// Change is an update's before and after of one field.
type Change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// audit records a change made by the current call; call it inside the same
// InTx as the change.
func (s *Service) audit(ctx context.Context, entity string, id any, action string, resellerID *int64, changes map[string]any) error {
	p := PrincipalFrom(ctx)
	e := &AuditEntry{CreatedAt: s.clock.Now(), Entity: entity, EntityID: fmt.Sprint(id), Action: action, Changes: changes, ResellersID: resellerID}
	if p != nil {
		e.LiveMode = p.Live
		if p.UserID != 0 {
			uid := p.UserID
			e.UsersID = &uid
		}
		if p.KeyID != 0 {
			kid := p.KeyID
			e.APIKeysID = &kid
		}
	}
	if sess := SessionFrom(ctx); sess != nil {
		e.RequestID = sess.RequestID
	}
	if c := callFrom(ctx); c != nil {
		e.Method = c.Method.Name
	}
	return s.store.RecordAudit(ctx, e)
}

// withCall and callFrom carry the running call in ctx (for audit).
func withCall(ctx context.Context, c *Call) context.Context {
	return context.WithValue(ctx, callKey, c)
}

func callFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey).(*Call)
	return c
}

// AuditSearch are the params of audit.search.
type AuditSearch struct {
	ListParams
	ID       IDs     `json:"id" filter:"id"`
	Entity   Strings `json:"entity" filter:"entity"`
	EntityID Strings `json:"entity_id" filter:"entity_id"`
	Action   Strings `json:"action" filter:"action"`
	UsersID  IDs     `json:"users_id" filter:"users_id"`
}

var auditList = ListSpec{Sort: []string{"id", "created_at"}, Search: []string{"method", "request_id"}}

func (s *Service) registerAudit() {
	Register(s.registry, Decl[AuditSearch, *Page[*AuditEntry]]{
		Name: "audit.search", Summary: "List the audit trail of changes (who, when, request, what changed).",
		HTTP: Route{Verb: "GET", Path: "/audit"},
		Do: func(ctx context.Context, p *AuditSearch) (*Page[*AuditEntry], error) {
			q, err := BuildQuery(auditList, p.FilterParams, &p.ListParams, p)
			if err != nil {
				return nil, err
			}
			rows, err := s.store.SearchAudit(ctx, q)
			return NewPage(rows, q), err
		},
	})
}

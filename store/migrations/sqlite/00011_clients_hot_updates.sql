-- Every ledger posting writes clients.balance; an index on it was maintained
-- on each posting for a sort few callers ask for. As on PostgreSQL (where it
-- also kept those updates from being HOT), balance is no longer indexed:
-- sorting by it sorts, as by credit or updated_at.

-- +goose Up
DROP INDEX clients_live_mode_balance_idx;

-- +goose Down
CREATE INDEX clients_live_mode_balance_idx ON clients (live_mode, balance, id);

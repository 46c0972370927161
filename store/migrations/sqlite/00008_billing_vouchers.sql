-- Billing lifecycle II (issue 7), part 2: vouchers and their redemptions
-- (see the PostgreSQL migration).

-- +goose Up
CREATE TABLE billing_vouchers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    resellers_id    INTEGER REFERENCES resellers (id) ON DELETE RESTRICT,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    type            TEXT NOT NULL CHECK (type IN ('percentage', 'fixed')),
    percentage      TEXT,
    amount          INTEGER CHECK (amount > 0),
    currency        TEXT REFERENCES currencies (code) ON DELETE RESTRICT,
    cycles          INTEGER NOT NULL CHECK (cycles BETWEEN 1 AND 120),
    expires_at      TIMESTAMP,
    max_redemptions INTEGER CHECK (max_redemptions >= 1),
    times_redeemed  INTEGER NOT NULL DEFAULT 0,
    active          BOOLEAN NOT NULL DEFAULT 1,
    live_mode       BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    CHECK ((type = 'percentage') = (percentage IS NOT NULL)),
    CHECK ((type = 'fixed') = (amount IS NOT NULL AND currency IS NOT NULL)),
    CHECK (times_redeemed >= 0 AND (max_redemptions IS NULL OR times_redeemed <= max_redemptions))
);
CREATE UNIQUE INDEX billing_vouchers_code_key ON billing_vouchers (code, live_mode, COALESCE(resellers_id, 0));
CREATE INDEX billing_vouchers_live_mode_id_idx ON billing_vouchers (live_mode, id);
CREATE INDEX billing_vouchers_resellers_id_idx ON billing_vouchers (resellers_id, live_mode, id);

CREATE TABLE billing_voucher_redemptions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    vouchers_id INTEGER NOT NULL REFERENCES billing_vouchers (id) ON DELETE RESTRICT,
    clients_id  INTEGER NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    cycles_left INTEGER NOT NULL CHECK (cycles_left >= 0),
    applied_at  TIMESTAMP NOT NULL,
    live_mode   BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (vouchers_id, clients_id)
);
CREATE INDEX billing_voucher_redemptions_active_idx ON billing_voucher_redemptions (clients_id, id) WHERE cycles_left > 0;

-- +goose Down
DROP TABLE billing_voucher_redemptions;
DROP TABLE billing_vouchers;

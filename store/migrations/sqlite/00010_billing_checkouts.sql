-- Billing lifecycle II (issue 7), part 4: checkouts (see the PostgreSQL
-- migration).

-- +goose Up
CREATE TABLE billing_checkouts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    clients_id    INTEGER NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    status        TEXT NOT NULL CHECK (status IN ('open', 'confirmed')),
    currency      TEXT NOT NULL,
    voucher       TEXT NOT NULL DEFAULT '',
    vouchers_id   INTEGER REFERENCES billing_vouchers (id) ON DELETE RESTRICT,
    items         TEXT NOT NULL CHECK (json_valid(items)),
    lines         TEXT NOT NULL CHECK (json_valid(lines)),
    subtotal      INTEGER NOT NULL,
    tax           INTEGER NOT NULL,
    total         INTEGER NOT NULL CHECK (total = subtotal + tax),
    invoices_id   INTEGER REFERENCES billing_invoices (id) ON DELETE RESTRICT,
    subscriptions TEXT NOT NULL CHECK (json_valid(subscriptions)),
    confirmed_at  TIMESTAMP,
    live_mode     BOOLEAN NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    CHECK ((status = 'confirmed') = (invoices_id IS NOT NULL))
);
CREATE INDEX billing_checkouts_clients_id_idx ON billing_checkouts (clients_id, id);
CREATE INDEX billing_checkouts_live_mode_id_idx ON billing_checkouts (live_mode, id);

-- +goose Down
DROP TABLE billing_checkouts;

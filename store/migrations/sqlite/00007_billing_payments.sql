-- Billing lifecycle II (issue 7), part 1: payments, their invoices, refunds;
-- what an invoice has been paid; usage and discount invoice lines (see the
-- PostgreSQL migration). SQLite cannot change a CHECK constraint: the
-- invoice lines table (which no table references) is made anew and filled.

-- +goose Up
ALTER TABLE billing_invoices ADD COLUMN amount_paid INTEGER NOT NULL DEFAULT 0 CHECK (amount_paid >= 0);

CREATE TABLE billing_invoice_lines_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    invoices_id  INTEGER NOT NULL REFERENCES billing_invoices (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('subscription', 'proration', 'refund', 'manual', 'usage', 'discount')),
    description  TEXT NOT NULL,
    prices_id    INTEGER REFERENCES billing_prices (id) ON DELETE RESTRICT,
    quantity     INTEGER NOT NULL,
    unit_amount  INTEGER NOT NULL,
    amount       INTEGER NOT NULL,
    tax_rate     TEXT NOT NULL,
    period_start TIMESTAMP,
    period_end   TIMESTAMP,
    UNIQUE (invoices_id, position)
);
INSERT INTO billing_invoice_lines_new SELECT id, invoices_id, position, kind, description, prices_id, quantity,
    unit_amount, amount, tax_rate, period_start, period_end FROM billing_invoice_lines;
DROP TABLE billing_invoice_lines;
ALTER TABLE billing_invoice_lines_new RENAME TO billing_invoice_lines;
CREATE INDEX billing_invoice_lines_prices_id_idx ON billing_invoice_lines (prices_id);

CREATE TABLE billing_payments (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    clients_id         INTEGER NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    resellers_id       INTEGER REFERENCES resellers (id) ON DELETE RESTRICT,
    amount             INTEGER NOT NULL CHECK (amount > 0),
    refunded           INTEGER NOT NULL DEFAULT 0,
    currency           TEXT NOT NULL REFERENCES currencies (code) ON DELETE RESTRICT,
    provider           TEXT NOT NULL,
    method             TEXT NOT NULL DEFAULT '',
    external_reference TEXT NOT NULL DEFAULT '',
    provider_reference TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('completed')),
    notes              TEXT NOT NULL DEFAULT '',
    transactions_id    INTEGER REFERENCES transactions (id) ON DELETE RESTRICT,
    users_id           INTEGER,
    received_at        TIMESTAMP NOT NULL,
    live_mode          BOOLEAN NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    CHECK (refunded BETWEEN 0 AND amount)
);
CREATE UNIQUE INDEX billing_payments_external_reference_key ON billing_payments (external_reference, live_mode, COALESCE(resellers_id, 0))
    WHERE external_reference <> '';
CREATE INDEX billing_payments_clients_id_idx ON billing_payments (clients_id, id);
CREATE INDEX billing_payments_live_mode_id_idx ON billing_payments (live_mode, id);

CREATE TABLE billing_payment_invoices (
    payments_id INTEGER NOT NULL REFERENCES billing_payments (id) ON DELETE CASCADE,
    invoices_id INTEGER NOT NULL REFERENCES billing_invoices (id) ON DELETE RESTRICT,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (payments_id, invoices_id)
);
CREATE INDEX billing_payment_invoices_invoices_id_idx ON billing_payment_invoices (invoices_id);

CREATE TABLE billing_refunds (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    payments_id        INTEGER NOT NULL REFERENCES billing_payments (id) ON DELETE RESTRICT,
    clients_id         INTEGER NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    amount             INTEGER NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('completed')),
    provider_reference TEXT NOT NULL DEFAULT '',
    transactions_id    INTEGER REFERENCES transactions (id) ON DELETE RESTRICT,
    subscriptions_id   INTEGER REFERENCES billing_subscriptions (id) ON DELETE RESTRICT,
    credit_invoices_id INTEGER REFERENCES billing_invoices (id) ON DELETE RESTRICT,
    users_id           INTEGER,
    live_mode          BOOLEAN NOT NULL,
    created_at         TIMESTAMP NOT NULL
);
CREATE INDEX billing_refunds_payments_id_idx ON billing_refunds (payments_id, id);
CREATE INDEX billing_refunds_clients_id_idx ON billing_refunds (clients_id, id);
CREATE INDEX billing_refunds_live_mode_id_idx ON billing_refunds (live_mode, id);

-- +goose Down
DROP TABLE billing_refunds;
DROP TABLE billing_payment_invoices;
DROP TABLE billing_payments;
DELETE FROM billing_invoice_lines WHERE kind IN ('usage', 'discount');
CREATE TABLE billing_invoice_lines_old (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    invoices_id  INTEGER NOT NULL REFERENCES billing_invoices (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('subscription', 'proration', 'refund', 'manual')),
    description  TEXT NOT NULL,
    prices_id    INTEGER REFERENCES billing_prices (id) ON DELETE RESTRICT,
    quantity     INTEGER NOT NULL,
    unit_amount  INTEGER NOT NULL,
    amount       INTEGER NOT NULL,
    tax_rate     TEXT NOT NULL,
    period_start TIMESTAMP,
    period_end   TIMESTAMP,
    UNIQUE (invoices_id, position)
);
INSERT INTO billing_invoice_lines_old SELECT * FROM billing_invoice_lines;
DROP TABLE billing_invoice_lines;
ALTER TABLE billing_invoice_lines_old RENAME TO billing_invoice_lines;
CREATE INDEX billing_invoice_lines_prices_id_idx ON billing_invoice_lines (prices_id);
ALTER TABLE billing_invoices DROP COLUMN amount_paid;

-- Billing lifecycle I (issue 6), part 3: invoices, their lines and the invoice
-- number counters (see the PostgreSQL migration).

-- +goose Up
CREATE TABLE billing_invoices (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    clients_id           INTEGER NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    resellers_id         INTEGER REFERENCES resellers (id) ON DELETE RESTRICT,
    subscriptions_id     INTEGER REFERENCES billing_subscriptions (id) ON DELETE RESTRICT,
    number               INTEGER,
    kind                 TEXT NOT NULL CHECK (kind IN ('cycle', 'proration', 'refund', 'manual')),
    status               TEXT NOT NULL CHECK (status IN ('draft', 'finalized', 'paid', 'void')),
    currency             TEXT NOT NULL REFERENCES currencies (code) ON DELETE RESTRICT,
    subtotal             INTEGER NOT NULL,
    tax                  INTEGER NOT NULL,
    total                INTEGER NOT NULL CHECK (total = subtotal + tax),
    period_start         TIMESTAMP,
    period_end           TIMESTAMP,
    issued_at            TIMESTAMP NOT NULL,
    due_at               TIMESTAMP NOT NULL,
    finalized_at         TIMESTAMP,
    paid_at              TIMESTAMP,
    voided_at            TIMESTAMP,
    transactions_id      INTEGER REFERENCES transactions (id) ON DELETE RESTRICT,
    void_transactions_id INTEGER REFERENCES transactions (id) ON DELETE RESTRICT,
    memo                 TEXT NOT NULL DEFAULT '',
    live_mode            BOOLEAN NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    CHECK ((status = 'draft') = (number IS NULL))
);
CREATE UNIQUE INDEX billing_invoices_period_start_key ON billing_invoices (subscriptions_id, period_start) WHERE kind = 'cycle';
CREATE UNIQUE INDEX billing_invoices_number_key ON billing_invoices (number, live_mode, COALESCE(resellers_id, 0)) WHERE number IS NOT NULL;
CREATE INDEX billing_invoices_clients_id_idx ON billing_invoices (clients_id, id);
CREATE INDEX billing_invoices_live_mode_id_idx ON billing_invoices (live_mode, id);
CREATE INDEX billing_invoices_subscriptions_id_idx ON billing_invoices (subscriptions_id, id);

CREATE TABLE billing_invoice_lines (
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
CREATE INDEX billing_invoice_lines_prices_id_idx ON billing_invoice_lines (prices_id);

CREATE TABLE billing_invoice_counters (
    resellers_key INTEGER NOT NULL,
    live_mode     BOOLEAN NOT NULL,
    last_number   INTEGER NOT NULL,
    PRIMARY KEY (resellers_key, live_mode)
);

-- +goose Down
DROP TABLE billing_invoice_counters;
DROP TABLE billing_invoice_lines;
DROP TABLE billing_invoices;

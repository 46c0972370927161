-- Billing lifecycle I (issue 6), part 2: subscriptions and the test clock (see
-- the PostgreSQL migration). On SQLite the billing run's transactions hold
-- the database's single write lock.

-- +goose Up
CREATE TABLE billing_subscriptions (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    clients_id           INTEGER NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    plans_id             INTEGER NOT NULL REFERENCES billing_plans (id) ON DELETE RESTRICT,
    prices_id            INTEGER NOT NULL REFERENCES billing_prices (id) ON DELETE RESTRICT,
    status               TEXT NOT NULL CHECK (status IN ('trialing', 'active', 'pending_cancel', 'cancelled')),
    seats                INTEGER NOT NULL CHECK (seats BETWEEN 1 AND 1000000),
    schedule             TEXT NOT NULL CHECK (schedule IN ('week', 'month', 'year')),
    currency             TEXT NOT NULL,
    timezone             TEXT NOT NULL,
    trial_ends_at        TIMESTAMP,
    billing_anchor       TIMESTAMP,
    current_period_start TIMESTAMP NOT NULL,
    current_period_end   TIMESTAMP NOT NULL,
    cancel_at            TIMESTAMP,
    cancel_refund_type   TEXT NOT NULL DEFAULT 'none' CHECK (cancel_refund_type IN ('none', 'full', 'prorate')),
    cancel_comment       TEXT NOT NULL DEFAULT '',
    canceled_at          TIMESTAMP,
    ended_at             TIMESTAMP,
    pending_plans_id     INTEGER REFERENCES billing_plans (id) ON DELETE RESTRICT,
    pending_prices_id    INTEGER REFERENCES billing_prices (id) ON DELETE RESTRICT,
    due_at               TIMESTAMP,
    metadata             TEXT CHECK (json_valid(metadata)),
    live_mode            BOOLEAN NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX billing_subscriptions_clients_id_idx ON billing_subscriptions (clients_id, id);
CREATE INDEX billing_subscriptions_live_mode_id_idx ON billing_subscriptions (live_mode, id);
CREATE INDEX billing_subscriptions_due_at_idx ON billing_subscriptions (live_mode, due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX billing_subscriptions_plans_id_idx ON billing_subscriptions (plans_id);
CREATE INDEX billing_subscriptions_prices_id_idx ON billing_subscriptions (prices_id);

CREATE TABLE billing_test_clocks (
    mode       TEXT PRIMARY KEY CHECK (mode = 'test'),
    clock_time TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE billing_test_clocks;
DROP TABLE billing_subscriptions;

-- Billing lifecycle II (issue 7), part 3: usage metering — metrics, events
-- and usage limits (see the PostgreSQL migration).

-- +goose Up
CREATE TABLE billing_metrics (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    resellers_id INTEGER REFERENCES resellers (id) ON DELETE RESTRICT,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    aggregation  TEXT NOT NULL CHECK (aggregation IN ('sum', 'count', 'max', 'latest', 'unique_count')),
    property     TEXT NOT NULL DEFAULT '',
    live_mode    BOOLEAN NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    CHECK (aggregation <> 'unique_count' OR property <> '')
);
CREATE UNIQUE INDEX billing_metrics_code_key ON billing_metrics (code, live_mode, COALESCE(resellers_id, 0));
CREATE INDEX billing_metrics_live_mode_id_idx ON billing_metrics (live_mode, id);

CREATE TABLE billing_usage_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriptions_id INTEGER NOT NULL REFERENCES billing_subscriptions (id) ON DELETE RESTRICT,
    clients_id       INTEGER NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    metrics_id       INTEGER NOT NULL REFERENCES billing_metrics (id) ON DELETE RESTRICT,
    event_id         TEXT NOT NULL,
    code             TEXT NOT NULL,
    value_micros     INTEGER NOT NULL CHECK (value_micros >= 0),
    unique_key       TEXT,
    properties       TEXT CHECK (json_valid(properties)),
    occurred_at      TIMESTAMP NOT NULL,
    live_mode        BOOLEAN NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    UNIQUE (subscriptions_id, event_id)
);
CREATE INDEX billing_usage_events_metric_idx ON billing_usage_events (subscriptions_id, metrics_id, occurred_at);
CREATE INDEX billing_usage_events_clients_id_idx ON billing_usage_events (clients_id, id);
CREATE INDEX billing_usage_events_live_mode_id_idx ON billing_usage_events (live_mode, id);
CREATE INDEX billing_usage_events_metrics_id_idx ON billing_usage_events (metrics_id);

CREATE TABLE billing_usage_limits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    clients_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    action     TEXT NOT NULL CHECK (action IN ('WARNING', 'DISABLE')),
    fired_at   TIMESTAMP,
    fired_cost INTEGER,
    live_mode  BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX billing_usage_limits_clients_id_idx ON billing_usage_limits (clients_id, id);
CREATE INDEX billing_usage_limits_pending_idx ON billing_usage_limits (clients_id) WHERE fired_at IS NULL;

-- +goose Down
DROP TABLE billing_usage_limits;
DROP TABLE billing_usage_events;
DROP TABLE billing_metrics;

-- Billing core: currencies and exchange rates (global), clients and their
-- accounts (owned by a reseller, per mode), the append-only ledger, idempotency
-- keys and the audit trail. Types and timestamps as in 00001; booleans are
-- stored as 0/1. JSON columns are TEXT checked with json_valid.

-- +goose Up
CREATE TABLE currencies (
    code       TEXT PRIMARY KEY CHECK (code GLOB '[A-Z][A-Z][A-Z]'),
    name       TEXT NOT NULL,
    -- minor-unit decimals: JPY 0, USD 2, BHD 3
    exponent   INTEGER NOT NULL CHECK (exponent BETWEEN 0 AND 4),
    is_base    BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- at most one base currency
CREATE UNIQUE INDEX currencies_is_base_key ON currencies (is_base) WHERE is_base;

-- created_at in the driver's format for a whole second ("… 15:04:05+00:00")
INSERT INTO currencies (code, name, exponent, is_base, created_at, updated_at)
SELECT column1, column2, column3, column1 = 'USD',
       strftime('%Y-%m-%d %H:%M:%S+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')
FROM (VALUES
    ('USD', 'US Dollar', 2),
    ('EUR', 'Euro', 2),
    ('GBP', 'Pound Sterling', 2),
    ('JPY', 'Yen', 0),
    ('CHF', 'Swiss Franc', 2),
    ('CAD', 'Canadian Dollar', 2),
    ('AUD', 'Australian Dollar', 2),
    ('NZD', 'New Zealand Dollar', 2),
    ('CNY', 'Yuan Renminbi', 2),
    ('HKD', 'Hong Kong Dollar', 2),
    ('SGD', 'Singapore Dollar', 2),
    ('INR', 'Indian Rupee', 2),
    ('KRW', 'Won', 0),
    ('SEK', 'Swedish Krona', 2),
    ('NOK', 'Norwegian Krone', 2),
    ('DKK', 'Danish Krone', 2),
    ('PLN', 'Zloty', 2),
    ('CZK', 'Czech Koruna', 2),
    ('HUF', 'Forint', 2),
    ('RON', 'Romanian Leu', 2),
    ('BGN', 'Bulgarian Lev', 2),
    ('TRY', 'Turkish Lira', 2),
    ('ILS', 'New Israeli Sheqel', 2),
    ('AED', 'UAE Dirham', 2),
    ('SAR', 'Saudi Riyal', 2),
    ('BHD', 'Bahraini Dinar', 3),
    ('KWD', 'Kuwaiti Dinar', 3),
    ('OMR', 'Rial Omani', 3),
    ('JOD', 'Jordanian Dinar', 3),
    ('TND', 'Tunisian Dinar', 3),
    ('BRL', 'Brazilian Real', 2),
    ('MXN', 'Mexican Peso', 2),
    ('ARS', 'Argentine Peso', 2),
    ('CLP', 'Chilean Peso', 0),
    ('COP', 'Colombian Peso', 2),
    ('ZAR', 'Rand', 2),
    ('NGN', 'Naira', 2),
    ('EGP', 'Egyptian Pound', 2),
    ('UAH', 'Hryvnia', 2),
    ('RUB', 'Russian Ruble', 2),
    ('THB', 'Baht', 2),
    ('IDR', 'Rupiah', 2),
    ('MYR', 'Malaysian Ringgit', 2),
    ('PHP', 'Philippine Peso', 2),
    ('VND', 'Dong', 0),
    ('ISK', 'Iceland Krona', 0)
);

CREATE TABLE exchange_rates (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    from_code      TEXT NOT NULL REFERENCES currencies (code) ON DELETE RESTRICT,
    to_code        TEXT NOT NULL REFERENCES currencies (code) ON DELETE RESTRICT,
    -- units of to per unit of from, an exact decimal string (never a float)
    rate           TEXT NOT NULL,
    effective_from TIMESTAMP NOT NULL,
    -- the 1/rate row stored alongside a created rate
    reverse        BOOLEAN NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL,
    CHECK (from_code <> to_code)
);
-- one rate per pair and instant; also serves RateAt (latest effective_from <= at)
CREATE UNIQUE INDEX exchange_rates_effective_from_key ON exchange_rates (from_code, to_code, effective_from DESC);
CREATE INDEX exchange_rates_to_code_idx ON exchange_rates (to_code);

CREATE TABLE clients (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'archived')),
    -- NULL: owned by the root (seen only by unrestricted principals)
    resellers_id INTEGER REFERENCES resellers (id) ON DELETE RESTRICT,
    currency     TEXT NOT NULL REFERENCES currencies (code) ON DELETE RESTRICT,
    -- credit limit, minor units: how far below zero the balance may go
    credit       INTEGER NOT NULL DEFAULT 0 CHECK (credit >= 0),
    -- minor units; written only by the ledger
    balance      INTEGER NOT NULL DEFAULT 0,
    email        TEXT NOT NULL DEFAULT '',
    company      TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    tax_number   TEXT NOT NULL DEFAULT '',
    metadata     TEXT CHECK (json_valid(metadata)),
    live_mode    BOOLEAN NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
-- The sorts and filters of clients.search under the mode (see the PostgreSQL
-- migration; SQLite cannot index LOWER(col) LIKE '%term%').
CREATE INDEX clients_live_mode_id_idx ON clients (live_mode, id);
CREATE INDEX clients_live_mode_name_idx ON clients (live_mode, name, id);
CREATE INDEX clients_live_mode_created_at_idx ON clients (live_mode, created_at, id);
CREATE INDEX clients_live_mode_balance_idx ON clients (live_mode, balance, id);
CREATE INDEX clients_live_mode_status_idx ON clients (live_mode, status, id);
CREATE INDEX clients_resellers_id_idx ON clients (resellers_id, live_mode, id);
CREATE INDEX clients_currency_idx ON clients (currency);
CREATE INDEX clients_email_idx ON clients (email);

CREATE TABLE client_accounts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    clients_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'archived')),
    -- CIDRs
    ips        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(ips)),
    metadata   TEXT CHECK (json_valid(metadata)),
    live_mode  BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX client_accounts_clients_id_idx ON client_accounts (clients_id, id);
CREATE INDEX client_accounts_live_mode_id_idx ON client_accounts (live_mode, id);

-- The ledger: append-only (the store has no update or delete for it).
CREATE TABLE transactions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    clients_id        INTEGER NOT NULL REFERENCES clients (id) ON DELETE RESTRICT,
    -- minor units of currency (the client's); positive credits, negative debits
    amount            INTEGER NOT NULL CHECK (amount <> 0),
    currency          TEXT NOT NULL,
    type              TEXT NOT NULL CHECK (type IN ('payment', 'charge', 'adjustment', 'refund')),
    notes             TEXT NOT NULL DEFAULT '',
    balance_after     INTEGER NOT NULL,
    -- a conversion from the currency the movement was given in
    original_amount   INTEGER,
    original_currency TEXT,
    rate              TEXT,
    -- who posted it; no foreign keys: users and keys may be deleted, the ledger stays
    users_id          INTEGER,
    api_keys_id       INTEGER,
    live_mode         BOOLEAN NOT NULL,
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX transactions_clients_id_idx ON transactions (clients_id, id);
CREATE INDEX transactions_live_mode_id_idx ON transactions (live_mode, id);

CREATE TABLE idempotency_keys (
    -- the key's owner (user and mode) and the key
    scope       TEXT NOT NULL,
    "key"       TEXT NOT NULL,
    method      TEXT NOT NULL,
    params_hash TEXT NOT NULL,
    -- the first result as JSON; NULL while the first call is in flight
    response    TEXT,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, "key")
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- The audit trail; no foreign keys: it outlives what it describes.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at   TIMESTAMP NOT NULL,
    users_id     INTEGER,
    api_keys_id  INTEGER,
    request_id   TEXT NOT NULL DEFAULT '',
    method       TEXT NOT NULL DEFAULT '',
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    action       TEXT NOT NULL,
    changes      TEXT CHECK (json_valid(changes)),
    live_mode    BOOLEAN NOT NULL,
    -- the reseller owning the changed object; NULL: the root or global data
    resellers_id INTEGER
);
CREATE INDEX audit_log_live_mode_id_idx ON audit_log (live_mode, id);
CREATE INDEX audit_log_resellers_id_idx ON audit_log (resellers_id, live_mode, id);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE idempotency_keys;
DROP TABLE transactions;
DROP TABLE client_accounts;
DROP TABLE clients;
DROP TABLE exchange_rates;
DROP TABLE currencies;

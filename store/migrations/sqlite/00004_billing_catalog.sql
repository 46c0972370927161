-- Billing lifecycle I (issue 6), part 1: the clients' tax and billing settings
-- and the catalog (see the PostgreSQL migration). Booleans are 0/1, JSON
-- columns TEXT checked with json_valid.

-- +goose Up
-- Tax rates: percentages as exact decimal strings, never floats; NULL: none.
ALTER TABLE clients ADD COLUMN standard_tax_rate TEXT;
ALTER TABLE clients ADD COLUMN digital_tax_rate TEXT;
ALTER TABLE clients ADD COLUMN type TEXT NOT NULL DEFAULT 'individual' CHECK (type IN ('individual', 'business'));
ALTER TABLE clients ADD COLUMN billing_type TEXT NOT NULL DEFAULT 'invoice' CHECK (billing_type IN ('card', 'invoice'));
ALTER TABLE clients ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
ALTER TABLE clients ADD COLUMN invoice_format TEXT NOT NULL DEFAULT 'pdf' CHECK (invoice_format IN ('pdf', 'xrechnung'));
ALTER TABLE clients ADD COLUMN marketing_opt_in BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN timezone TEXT NOT NULL DEFAULT '';

CREATE TABLE billing_products (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    resellers_id       INTEGER REFERENCES resellers (id) ON DELETE RESTRICT,
    name               TEXT NOT NULL,
    external_reference TEXT NOT NULL DEFAULT '',
    tax_type           TEXT NOT NULL CHECK (tax_type IN ('standard', 'digital')),
    live_mode          BOOLEAN NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX billing_products_live_mode_id_idx ON billing_products (live_mode, id);
CREATE INDEX billing_products_resellers_id_idx ON billing_products (resellers_id, live_mode, id);

CREATE TABLE billing_prices (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    products_id        INTEGER NOT NULL REFERENCES billing_products (id) ON DELETE RESTRICT,
    amount             INTEGER NOT NULL CHECK (amount >= 0),
    currency           TEXT NOT NULL REFERENCES currencies (code) ON DELETE RESTRICT,
    recurring          BOOLEAN NOT NULL,
    schedule           TEXT NOT NULL CHECK (schedule IN ('week', 'month', 'year', 'one-off')),
    including_tax      BOOLEAN NOT NULL DEFAULT 0,
    public             BOOLEAN NOT NULL DEFAULT 1,
    usage_metric       TEXT NOT NULL DEFAULT '',
    external_reference TEXT NOT NULL DEFAULT '',
    live_mode          BOOLEAN NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    CHECK (recurring = (schedule <> 'one-off'))
);
CREATE INDEX billing_prices_products_id_idx ON billing_prices (products_id, id);
CREATE INDEX billing_prices_currency_idx ON billing_prices (currency);

CREATE TABLE billing_plans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    resellers_id    INTEGER REFERENCES resellers (id) ON DELETE RESTRICT,
    products_id     INTEGER NOT NULL REFERENCES billing_products (id) ON DELETE RESTRICT,
    code_name       TEXT NOT NULL,
    name            TEXT NOT NULL,
    per_seat        BOOLEAN NOT NULL DEFAULT 0,
    free_trial_days INTEGER NOT NULL DEFAULT 0 CHECK (free_trial_days BETWEEN 0 AND 730),
    user_count      INTEGER NOT NULL DEFAULT 0 CHECK (user_count >= 0),
    features        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(features)),
    limits          TEXT CHECK (json_valid(limits)),
    public          BOOLEAN NOT NULL DEFAULT 1,
    live_mode       BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
-- a code name names one plan per reseller (root included) and mode; two
-- indexes because NULLs are distinct in a unique index (both report code_name)
CREATE UNIQUE INDEX billing_plans_code_name_key ON billing_plans (code_name, live_mode, resellers_id);
CREATE UNIQUE INDEX billing_plans_root_code_name_key ON billing_plans (code_name, live_mode) WHERE resellers_id IS NULL;
CREATE INDEX billing_plans_live_mode_id_idx ON billing_plans (live_mode, id);
CREATE INDEX billing_plans_resellers_id_idx ON billing_plans (resellers_id, live_mode, id);
CREATE INDEX billing_plans_products_id_idx ON billing_plans (products_id);

CREATE TABLE billing_plan_prices (
    plans_id  INTEGER NOT NULL REFERENCES billing_plans (id) ON DELETE CASCADE,
    prices_id INTEGER NOT NULL REFERENCES billing_prices (id) ON DELETE RESTRICT,
    PRIMARY KEY (plans_id, prices_id)
);
CREATE INDEX billing_plan_prices_prices_id_idx ON billing_plan_prices (prices_id);

-- +goose Down
DROP TABLE billing_plan_prices;
DROP TABLE billing_plans;
DROP TABLE billing_prices;
DROP TABLE billing_products;
ALTER TABLE clients DROP COLUMN timezone;
ALTER TABLE clients DROP COLUMN marketing_opt_in;
ALTER TABLE clients DROP COLUMN invoice_format;
ALTER TABLE clients DROP COLUMN locale;
ALTER TABLE clients DROP COLUMN billing_type;
ALTER TABLE clients DROP COLUMN type;
ALTER TABLE clients DROP COLUMN digital_tax_rate;
ALTER TABLE clients DROP COLUMN standard_tax_rate;

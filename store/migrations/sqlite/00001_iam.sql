-- IAM: the reseller tree, users, their API keys, and server settings.
-- Timestamps are TIMESTAMP columns written by the driver as
-- "2006-01-02 15:04:05.999999-07:00" text, always in UTC (+00:00) with at most
-- microseconds, so that text comparison and ordering follow time order.
-- AUTOINCREMENT: ids are never reused (a deleted user's id must not come back).

-- +goose Up
CREATE TABLE resellers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    parent_id  INTEGER REFERENCES resellers (id) ON DELETE RESTRICT,
    -- materialised path of ids from the root: "/1/5/" (kept by the store)
    path       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX resellers_path_idx ON resellers (path);
CREATE INDEX resellers_parent_id_idx ON resellers (parent_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    resellers_id  INTEGER REFERENCES resellers (id) ON DELETE RESTRICT,
    timezone      TEXT NOT NULL DEFAULT '',
    allowed_ips   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(allowed_ips)),
    status        TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX users_resellers_id_idx ON users (resellers_id);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    users_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mode         TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    prefix       TEXT NOT NULL,
    -- SHA-256 of the key; the key itself is never stored
    hash         TEXT NOT NULL UNIQUE,
    expires_at   TIMESTAMP,
    last_used_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX api_keys_users_id_idx ON api_keys (users_id);

CREATE TABLE settings (
    "key" TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE resellers;

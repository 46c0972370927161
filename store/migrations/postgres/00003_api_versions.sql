-- API versions (seed 000): every API key is pinned to the API version its
-- calls are served in. Keys that exist when this runs were made before
-- versions existed, against the API of version 2026-11-21 (the latest at the
-- time), so they are pinned to it. The default only fills those rows and is
-- dropped: the store always writes the version of a new key.

-- +goose Up
ALTER TABLE api_keys ADD COLUMN api_version TEXT NOT NULL DEFAULT '2026-11-21';
ALTER TABLE api_keys ALTER COLUMN api_version DROP DEFAULT;

-- +goose Down
ALTER TABLE api_keys DROP COLUMN api_version;

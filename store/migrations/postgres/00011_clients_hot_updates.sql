-- Every ledger posting writes clients.balance. With balance indexed, each was
-- a non-HOT update: new entries in all of the table's indexes, among them the
-- five pg_trgm GIN indexes, whose pending lists (4 MB each by default) every
-- clients.search with q scans from end to end. Measured on 1,000,000 clients:
-- after 20,000 postings the search went from 8 to 25 ms (p50). Now balance is
-- not indexed (sorting by it sorts, as by credit or updated_at), pages keep
-- room for HOT updates (which touch no index), and the GIN pending lists stay
-- short (256 kB: a writer merges them into the index sooner).

-- +goose Up
DROP INDEX clients_live_mode_balance_idx;
ALTER TABLE clients SET (fillfactor = 85);
ALTER INDEX clients_name_trgm_idx SET (gin_pending_list_limit = 256);
ALTER INDEX clients_email_trgm_idx SET (gin_pending_list_limit = 256);
ALTER INDEX clients_company_trgm_idx SET (gin_pending_list_limit = 256);
ALTER INDEX clients_phone_trgm_idx SET (gin_pending_list_limit = 256);
ALTER INDEX clients_tax_number_trgm_idx SET (gin_pending_list_limit = 256);

-- +goose Down
ALTER INDEX clients_tax_number_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX clients_phone_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX clients_company_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX clients_email_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX clients_name_trgm_idx RESET (gin_pending_list_limit);
ALTER TABLE clients RESET (fillfactor);
CREATE INDEX clients_live_mode_balance_idx ON clients (live_mode, balance, id);

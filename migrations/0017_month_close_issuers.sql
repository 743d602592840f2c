-- The organisation that runs a restaurant issues its invoices: a restaurant may be run by
-- another body than the town that hosts the service (a town's own régie, a caterer, a syndicate).
-- Unset, the organisation itself is the issuer, as before.
ALTER TABLE restaurants ADD COLUMN issuer_name text;
ALTER TABLE restaurants ADD COLUMN issuer_address text;

-- A month's documents are found by the key that made each issued once: `month:{YYYY-MM}:…`.
CREATE INDEX invoice_keys_month ON invoice_keys (organisation_id, key text_pattern_ops);

-- The e-mail consumer looks up a family's open accounts for every confirmation, payment and
-- expiry it announces; without an index each look-up read the whole users table (0.9 ms each,
-- 11 % of the database's time in the opening-day rush at 2,000 families).
CREATE INDEX users_family ON users (family_id) WHERE family_id IS NOT NULL;

-- A provider's reference pays one payment only (issue 15): every notification checks that no
-- other payment carries it, which read the whole payments table (0.4 ms each in the rush).
CREATE INDEX payments_provider_ref ON payments (provider_ref) WHERE provider_ref IS NOT NULL;

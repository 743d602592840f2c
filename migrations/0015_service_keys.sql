-- Keys the service makes for itself, once, shared by every server on the database: the key of
-- the portal's CSRF tokens, apart from the payment provider's secret.
CREATE TABLE service_keys
(
    name       text PRIMARY KEY,
    secret     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Accounts and security (issue 6): disabled accounts, password links, the login log, and the
-- mark of anonymised families.

ALTER TABLE users
    ADD COLUMN disabled_at         timestamptz,
    ADD COLUMN last_login_at       timestamptz,
    ADD COLUMN password_changed_at timestamptz;

ALTER TABLE families
    ADD COLUMN anonymised_at timestamptz;

-- "Générer votre mot de passe": single-use links that expire. Only a hash of each token is
-- kept, as for sessions.
CREATE TABLE password_links
(
    token_hash bytea PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_links_user ON password_links (user_id);

-- Every login attempt: who, when, from where, the result. Never the password; the login as
-- typed only when it names an account (people type passwords into the login field).
CREATE TABLE login_attempts
(
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    user_id   uuid REFERENCES users (id),
    login     text,
    client    text        NOT NULL,
    result    text        NOT NULL CHECK (result IN
        ('success', 'wrong_password', 'unknown_login', 'no_password', 'locked', 'disabled', 'throttled'))
);
CREATE INDEX login_attempts_at ON login_attempts (at);
CREATE INDEX login_attempts_user ON login_attempts (user_id, at);

CREATE INDEX sessions_expires ON sessions (expires_at);

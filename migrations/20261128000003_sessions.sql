-- Commenter sign-in: login attempts in flight (OAuth state) and sessions.

-- One row per login attempt between /auth/{provider}/login and its callback: single use,
-- ten minutes. The state itself travels through the browser; only its hash is stored.
CREATE TABLE login_states (
    state_hash     bytea       NOT NULL,
    provider       text        NOT NULL,
    site_id        uuid        NOT NULL,
    -- The blog origin the popup will postMessage the token to (checked against the site).
    origin         text        NOT NULL,
    pkce_verifier  text        NOT NULL,
    nonce          text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    CONSTRAINT login_states_pkey PRIMARY KEY (state_hash),
    CONSTRAINT login_states_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE
);
CREATE INDEX login_states_expires_idx ON login_states (expires_at);

-- Commenter sessions: the bearer token is 256 random bits; only its SHA-256 is kept.
CREATE TABLE sessions (
    id          uuid        NOT NULL,
    token_hash  bytea       NOT NULL,
    user_id     uuid        NOT NULL,
    -- The provider this session logged in with (the widget shows "commenting using your X account").
    provider    text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT sessions_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

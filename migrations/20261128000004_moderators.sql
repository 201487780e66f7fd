-- Moderator accounts: email + argon2id password, roles per site, sessions, named API tokens,
-- and the login-failure log that throttles password guessing across every node.

CREATE TABLE moderators (
    id             uuid        NOT NULL,
    -- Stored case-folded; the unique index below is on lower(email) all the same, so no code
    -- path can ever create two accounts that differ only by case.
    email          text        NOT NULL,
    -- A PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash): the parameters travel with
    -- the hash, so they can be raised later without invalidating existing passwords.
    password_hash  text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT moderators_pkey PRIMARY KEY (id),
    CONSTRAINT moderators_password_hash_format CHECK (password_hash LIKE '$argon2id$%')
);
-- Login looks accounts up by email; the index is also what makes emails unique.
CREATE UNIQUE INDEX moderators_email_key ON moderators (lower(email));

-- What a moderator may do on a site. No row: the site doesn't exist for them (404).
CREATE TABLE moderator_roles (
    site_id       uuid        NOT NULL,
    moderator_id  uuid        NOT NULL,
    role          text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Leads with site_id like every per-site table, so it can be distributed by site.
    CONSTRAINT moderator_roles_pkey PRIMARY KEY (site_id, moderator_id),
    CONSTRAINT moderator_roles_role_check CHECK (role IN ('owner', 'moderator')),
    CONSTRAINT moderator_roles_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT moderator_roles_moderator_fkey FOREIGN KEY (moderator_id) REFERENCES moderators (id) ON DELETE CASCADE
);
-- Every authenticated moderator request loads the caller's roles.
CREATE INDEX moderator_roles_moderator_idx ON moderator_roles (moderator_id);

-- Password-login sessions: 256-bit bearer secrets of which only the SHA-256 is kept, so a
-- leaked table (or backup) can't be replayed.
CREATE TABLE moderator_sessions (
    id            uuid        NOT NULL,
    token_hash    bytea       NOT NULL,
    moderator_id  uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    CONSTRAINT moderator_sessions_pkey PRIMARY KEY (id),
    CONSTRAINT moderator_sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT moderator_sessions_moderator_fkey FOREIGN KEY (moderator_id) REFERENCES moderators (id) ON DELETE CASCADE
);
CREATE INDEX moderator_sessions_moderator_idx ON moderator_sessions (moderator_id);
-- For sweeping expired sessions.
CREATE INDEX moderator_sessions_expires_idx ON moderator_sessions (expires_at);

-- Named API tokens for scripts: hashed like sessions, shown to their owner once, revocable.
CREATE TABLE api_tokens (
    id            uuid        NOT NULL,
    moderator_id  uuid        NOT NULL,
    name          text        NOT NULL,
    token_hash    bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Updated at most once a minute, so a busy script doesn't write on every request.
    last_used_at  timestamptz,
    -- NULL: valid until revoked.
    expires_at    timestamptz,
    revoked_at    timestamptz,
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT api_tokens_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT api_tokens_moderator_fkey FOREIGN KEY (moderator_id) REFERENCES moderators (id) ON DELETE CASCADE
);
-- A name tells a person which script holds which token: two live tokens with the same name
-- would make revoking the right one guesswork. Revoked tokens free their name.
CREATE UNIQUE INDEX api_tokens_moderator_name_key ON api_tokens (moderator_id, name)
    WHERE revoked_at IS NULL;
-- Listing a moderator's tokens, oldest first (keyset on created_at, id).
CREATE INDEX api_tokens_moderator_created_idx ON api_tokens (moderator_id, created_at, id);

-- Failed (and in-flight) password logins, kept in Postgres so the limit holds across nodes.
-- Counted per email and per client IP over a sliding window; both keys are SHA-256 digests so
-- this table holds no email addresses or IPs in the clear. Rows older than the window are
-- deleted as new failures arrive.
CREATE TABLE login_failures (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    email_hash  bytea       NOT NULL,
    -- NULL when the client address is unknown (then only the email counter applies).
    ip_hash     bytea,
    at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT login_failures_pkey PRIMARY KEY (id)
);
CREATE INDEX login_failures_email_idx ON login_failures (email_hash, at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip_hash, at) WHERE ip_hash IS NOT NULL;
CREATE INDEX login_failures_at_idx ON login_failures (at);

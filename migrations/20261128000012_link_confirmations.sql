-- A linking popup no longer attaches the identity by itself. Its callback parks the provider
-- profile here under a one-time code, the popup posts that code to the widget that opened it,
-- and the widget confirms with the linking user's own session
-- (POST /api/v1/me/identities/{provider}/confirm). A link URL sent to someone else therefore
-- can't attach *their* account to the sender's user: the code ends up in the victim's browser,
-- which holds no session of the sender's. The code is stored hashed, lives 5 minutes and is
-- consumed by the first confirmation, right or wrong.
CREATE TABLE link_confirmations (
    code_hash  bytea PRIMARY KEY,
    user_id    uuid NOT NULL,
    provider   text NOT NULL,
    subject    text NOT NULL,
    name       text NOT NULL,
    email      text,
    email_verified boolean NOT NULL,
    avatar_url text,
    profile_url text,
    profile    jsonb NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT link_confirmations_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX link_confirmations_expires_idx ON link_confirmations (expires_at);

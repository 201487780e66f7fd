-- Erasing an account (DELETE /api/v1/me) deletes its identities, so logging in again with the
-- same Google/X/... account would make a fresh user with a clean record: a ban by user id would
-- be washed off by erasing. So while a user ban is active, erasing keeps a SHA-256 of each of
-- the user's `provider:subject` (nothing readable: no name, email or profile), tied to that ban.
-- A user later created with, or linking, such an identity inherits the ban. The fingerprints go
-- with the ban: lifted (deleted) at once, expired at the next sweep.
CREATE TABLE erased_identity_bans (
    ban_id        uuid  NOT NULL,
    identity_hash bytea NOT NULL,
    CONSTRAINT erased_identity_bans_pkey PRIMARY KEY (ban_id, identity_hash),
    CONSTRAINT erased_identity_bans_ban_fkey FOREIGN KEY (ban_id) REFERENCES bans (id) ON DELETE CASCADE
);
CREATE INDEX erased_identity_bans_hash_idx ON erased_identity_bans (identity_hash);

-- Moderators join a site by invitation (issue 10): a site owner never sets anyone's password.
-- An owner invites an email with a role; the invitee accepts with a single-use token, choosing
-- their own password when the email has no account, or logged in as the existing account. The
-- token is 256-bit random and only its SHA-256 is kept, so the table (or a backup) can't be
-- replayed; it is shown once, to the inviting owner.
CREATE TABLE moderator_invitations (
    id           uuid        NOT NULL,
    site_id      uuid        NOT NULL,
    -- Case-folded (`Email::identity_key`), like moderators.email.
    email        text        NOT NULL,
    role         text        NOT NULL,
    token_hash   bytea       NOT NULL,
    -- The owner who invited. An invitation only stands while its inviter still owns the site:
    -- an owner on the way out must not leave invitations behind as a way back in.
    invited_by   uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    -- At most one of these is ever set, and once set never cleared: single use.
    accepted_at  timestamptz,
    accepted_by  uuid,
    revoked_at   timestamptz,
    CONSTRAINT moderator_invitations_pkey PRIMARY KEY (id),
    CONSTRAINT moderator_invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT moderator_invitations_role_check CHECK (role IN ('owner', 'moderator')),
    CONSTRAINT moderator_invitations_used_once CHECK (accepted_at IS NULL OR revoked_at IS NULL),
    CONSTRAINT moderator_invitations_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT moderator_invitations_invited_by_fkey FOREIGN KEY (invited_by) REFERENCES moderators (id) ON DELETE CASCADE,
    CONSTRAINT moderator_invitations_accepted_by_fkey FOREIGN KEY (accepted_by) REFERENCES moderators (id) ON DELETE SET NULL
);
-- One open invitation per site and email: inviting again replaces the earlier one (in the same
-- transaction), so an owner can't pile up several live tokens for one person.
CREATE UNIQUE INDEX moderator_invitations_open_key ON moderator_invitations (site_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
-- Listing a site's pending invitations, oldest first (keyset on created_at, id).
CREATE INDEX moderator_invitations_site_created_idx ON moderator_invitations (site_id, created_at, id);
-- Voiding an owner's open invitations when they leave the team or are demoted.
CREATE INDEX moderator_invitations_invited_by_idx ON moderator_invitations (invited_by);

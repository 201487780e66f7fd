-- What a blog learns about a reader comes only from that blog (review of issue 10's fix).
--
-- A user may hold several logins (identities), linked on /account/. The shared `users` row used
-- to be overwritten by every login on any blog, and /api/v1/me, new comments and the moderator
-- views read it: blog A saw the name, avatar and email a reader used on blog B. Now each
-- identity keeps the profile its provider last sent, each session records the identity it was
-- opened with, and public and moderator JSON read that identity (or the site's own comments).
ALTER TABLE identities
    ADD COLUMN name text,
    ADD COLUMN avatar_url text,
    ADD COLUMN profile_url text;
-- An existing identity takes the user's current profile only when it is the user's one login:
-- with several, the shared row holds whichever login came last, possibly on another blog, and
-- copying it would write the leak into this data. Those stay empty until their next login.
UPDATE identities i SET name = u.name, avatar_url = u.avatar_url, profile_url = u.profile_url
FROM users u
WHERE u.id = i.user_id
  AND (SELECT count(*) FROM identities o WHERE o.user_id = i.user_id) = 1;

-- The login a session was opened with. Unlinking revokes its sessions; a deleted identity
-- leaves a session with no profile, which answers the user's first one.
ALTER TABLE sessions ADD COLUMN identity_id uuid;
ALTER TABLE sessions ADD CONSTRAINT sessions_identity_fkey
    FOREIGN KEY (identity_id) REFERENCES identities (id) ON DELETE SET NULL;

-- A comment's avatar is a snapshot at posting time like its name and URL (it was read live from
-- `users`, so a login on another blog changed the avatar of this blog's comments).
ALTER TABLE comments ADD COLUMN author_avatar_url text;
-- Old comments take it only from a user with one login, for the same reason.
UPDATE comments c SET author_avatar_url = u.avatar_url
FROM users u
WHERE u.id = c.user_id AND u.avatar_url IS NOT NULL
  AND (SELECT count(*) FROM identities o WHERE o.user_id = c.user_id) = 1;

-- A shadow-banned reader's flags and votes: remembered so that a repeated flag answers 409 and
-- a repeated vote answers the same score, as for anyone else, but never counted anywhere (no
-- flag count, no score, no moderator view); the reader's own export shows them, as it shows
-- anyone's flags and votes. Gone with the comment or the user.
CREATE TABLE shadow_reactions (
    comment_id  uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    site_id     uuid        NOT NULL,
    -- Set when they flagged (the reason and note as sent, for their own export).
    flag_reason text,
    flag_note   text,
    vote        smallint    NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shadow_reactions_pkey PRIMARY KEY (comment_id, user_id),
    CONSTRAINT shadow_reactions_comment_fkey FOREIGN KEY (comment_id) REFERENCES comments (id) ON DELETE CASCADE,
    CONSTRAINT shadow_reactions_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT shadow_reactions_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT shadow_reactions_vote_check CHECK (vote BETWEEN -1 AND 1)
);

-- A blog session opened before this records its login when only one login of the user has its
-- provider; where several do, which one opened it is unknown, and guessing could show one
-- account's name on another's blog: those sessions end (the reader logs in again).
UPDATE sessions s SET identity_id = (
    SELECT i.id FROM identities i WHERE i.user_id = s.user_id AND i.provider = s.provider
) WHERE s.identity_id IS NULL AND s.kind = 'site'
  AND (SELECT count(*) FROM identities i WHERE i.user_id = s.user_id AND i.provider = s.provider) = 1;
UPDATE sessions SET revoked_at = now()
WHERE kind = 'site' AND identity_id IS NULL AND revoked_at IS NULL;

-- Two kinds of reader session, kept apart by construction (issue 10, point 2).
--
-- `site`: opened through a blog's login popup; the token is posted to that blog's page and the
-- widget sends it as a Bearer header. The blog (and any script on it) holds it, so it may act
-- on that blog only: site_id is required.
--
-- `account`: opened on Colloquy's own origin at /account/; the secret lives in an HttpOnly,
-- SameSite=Strict cookie and is never posted to any page. Only it reaches what spans blogs
-- (every comment, export, erase, linking and unlinking logins): site_id is always NULL.
--
-- The /api/v1 lookup reads `site` sessions only and the /account lookup `account` sessions
-- only, so neither kind can stand in for the other, whatever the path says.
ALTER TABLE sessions ADD COLUMN kind text NOT NULL DEFAULT 'site';

-- Sessions from before sessions were bound to a site (site_id NULL) could act on every blog and
-- were the ones /api/v1/me/export and friends accepted: they end here (a revoked, site-less row
-- fits neither kind, so it goes).
DELETE FROM sessions WHERE site_id IS NULL;

ALTER TABLE sessions
    ADD CONSTRAINT sessions_kind_check CHECK (
        (kind = 'site' AND site_id IS NOT NULL) OR (kind = 'account' AND site_id IS NULL)
    );

-- A login attempt says what it is for, on the server, so the callback (shared: the providers
-- know one redirect URI) can't be talked into the other outcome. A blog popup's attempt
-- (`site`) can only ever post a site session to its registered origin; an account attempt
-- (`account`) can only ever set the account cookie on Colloquy's origin and redirect to
-- /account/, posting nothing to any page. Linking is done from the account page only.
-- An account attempt is also bound to the browser that started it (`browser_hash`: SHA-256
-- of a secret in a short-lived cookie), so an attacker's login or link URL finished in
-- someone else's browser opens nothing there.
ALTER TABLE login_states
    ADD COLUMN purpose text NOT NULL DEFAULT 'site',
    ADD COLUMN browser_hash bytea,
    ALTER COLUMN site_id DROP NOT NULL,
    ALTER COLUMN origin DROP NOT NULL;

-- Linking attempts started from a blog page are no longer honoured. The link codes a blog's
-- widget used to confirm are gone too: an account link completes at the callback itself, in the
-- browser bound to it, for the user whose account session started it.
DELETE FROM login_states WHERE link_user_id IS NOT NULL;
DROP TABLE link_confirmations;

ALTER TABLE login_states
    ADD CONSTRAINT login_states_purpose_check CHECK (
        (purpose = 'site' AND site_id IS NOT NULL AND origin IS NOT NULL AND link_user_id IS NULL
            AND browser_hash IS NULL)
        OR (purpose = 'account' AND site_id IS NULL AND origin IS NULL AND browser_hash IS NOT NULL)
    );

-- The account page lists a reader's comments across blogs, newest first.
CREATE INDEX comments_user_created_idx ON comments (user_id, created_at DESC, id DESC);

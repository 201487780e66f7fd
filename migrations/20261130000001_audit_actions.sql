-- The audit log of administrative actions: every moderator, owner or operator action that
-- changes state beyond a comment's status (bans and lifts, rules, site settings, team changes
-- and invitations, API tokens, passwords, appeals decided, commenters' trust). Comment status
-- changes stay in moderation_events; the site's audit listing merges both.
--
-- Rows are written by moderation::audit::record_action in the same transaction as the change.
-- `before` / `after` hold the changed resource's fields (never secrets, token values or
-- password hashes); NULL means "did not exist" (created / deleted) or "nothing to show".
CREATE TABLE audit_actions (
    -- Drawn from moderation_events' sequence, so an id is unique across both tables and the
    -- merged listing keeps one keyset cursor (created_at, id) with no tie-breaking by source.
    id           bigint      NOT NULL DEFAULT nextval('moderation_events_id_seq'),
    -- NULL for account-level actions that belong to no site (API tokens, passwords).
    site_id      uuid,
    -- moderator | operator (the CLI) | system (e.g. expiry) | pipeline | author | flags
    actor_kind   text        NOT NULL,
    actor_id     uuid,
    -- `<resource>.<verb>`, e.g. ban.created, rule.updated, site.updated, api_token.revoked.
    action       text        NOT NULL,
    -- What the action was done to: ban, rule, site, user, moderator, invitation, api_token, ...
    target_kind  text        NOT NULL,
    target_id    uuid,
    before       jsonb,
    after        jsonb,
    note         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_actions_pkey PRIMARY KEY (id),
    CONSTRAINT audit_actions_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT audit_actions_actor_kind_check
        CHECK (actor_kind IN ('moderator', 'operator', 'system', 'pipeline', 'author', 'flags')),
    -- A moderator's action always names the moderator: an anonymous admin entry is worthless.
    CONSTRAINT audit_actions_actor_id_check CHECK (actor_kind <> 'moderator' OR actor_id IS NOT NULL),
    CONSTRAINT audit_actions_action_check CHECK (action ~ '^[a-z][a-z_]*\.[a-z][a-z_]*$'),
    CONSTRAINT audit_actions_target_kind_check CHECK (target_kind ~ '^[a-z][a-z_]*$'),
    CONSTRAINT audit_actions_note_check CHECK (char_length(note) <= 2000)
);
-- A site's audit listing, newest first (keyset on created_at, id).
CREATE INDEX audit_actions_site_idx ON audit_actions (site_id, created_at, id);
-- A moderator's own account-level trail (site_id NULL): what they did, and what was done to
-- their account (e.g. an operator's password reset).
CREATE INDEX audit_actions_account_actor_idx ON audit_actions (actor_id, created_at, id)
    WHERE site_id IS NULL;
CREATE INDEX audit_actions_account_target_idx ON audit_actions (target_id, created_at, id)
    WHERE site_id IS NULL;

-- Append-only, enforced by the database for every client, not only by the absence of routes:
-- UPDATE and TRUNCATE of an audit table always fail; DELETE fails unless the row's site no
-- longer exists, which is exactly the ON DELETE CASCADE of removing a whole tenant (the site
-- row is gone before its cascades run). Comments are never hard-deleted (erasure moves them to
-- `deleted` through the state machine), so moderation_events' comment cascade only ever runs
-- as part of a site's removal. An operator who must purge rows (retention) does so deliberately
-- as the database owner, e.g. with session_replication_role = replica.
CREATE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Nested, so OLD is never read in the statement-level TRUNCATE trigger.
    IF TG_OP = 'DELETE' THEN
        IF OLD.site_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sites WHERE id = OLD.site_id) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_actions_append_only BEFORE UPDATE OR DELETE ON audit_actions
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_actions_no_truncate BEFORE TRUNCATE ON audit_actions
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER moderation_events_append_only BEFORE UPDATE OR DELETE ON moderation_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER moderation_events_no_truncate BEFORE TRUNCATE ON moderation_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER ban_events_append_only BEFORE UPDATE OR DELETE ON ban_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER ban_events_no_truncate BEFORE TRUNCATE ON ban_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

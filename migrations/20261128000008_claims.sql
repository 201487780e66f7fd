-- Queue claims: a moderator leases pending comments for a few minutes, so a team working one
-- queue never reviews the same item twice. A table of its own rather than columns on
-- `comments`: taking or giving back a lease doesn't change the comment (no version bump for
-- If-Match, no thread-change NOTIFY dropping cached thread pages), and leases churn far more
-- than comments do. A lease that has run out is simply ignored (`claimed_until <= now()` counts
-- as unclaimed), so no job has to sweep them; the next claim overwrites it.

CREATE TABLE comment_claims (
    comment_id    uuid        NOT NULL,
    site_id       uuid        NOT NULL,
    moderator_id  uuid        NOT NULL,
    claimed_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz NOT NULL,
    -- One holder per comment: the primary key is what makes two concurrent claims of the same
    -- comment collide (ON CONFLICT ... WHERE the lease ran out), whatever their snapshots saw.
    CONSTRAINT comment_claims_pkey PRIMARY KEY (comment_id),
    CONSTRAINT comment_claims_comment_fkey FOREIGN KEY (comment_id) REFERENCES comments (id) ON DELETE CASCADE,
    CONSTRAINT comment_claims_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT comment_claims_moderator_fkey FOREIGN KEY (moderator_id) REFERENCES moderators (id) ON DELETE CASCADE
);
-- Removing a moderator account drops their leases (the foreign key's cascade looks them up).
CREATE INDEX comment_claims_moderator_idx ON comment_claims (moderator_id);

-- Queue events for moderators' live view, on a channel of their own (`colloquy_queue`) so the
-- readers' thread channel stays as it was. Each node's one LISTEN connection listens to both.
-- Payload: `<site id> <event> <json>`; the json goes to Server-Sent Events streams untouched.
--   queued   — a comment entered the pending or spam queue (created so, or moved there);
--   resolved — it left one (approved, rejected, deleted, or moved to the other queue), with
--              its new status;
--   claimed / released — a lease was taken (or retaken after running out) / ended.
-- Timestamps are formatted here in UTC, RFC 3339, whatever the session's TimeZone.

CREATE FUNCTION colloquy_notify_queue_of_comment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN ('pending', 'spam') THEN
        PERFORM pg_notify('colloquy_queue', NEW.site_id::text || ' resolved ' ||
            json_build_object('id', NEW.id, 'from', OLD.status, 'status', NEW.status)::text);
    END IF;
    IF NEW.status IN ('pending', 'spam') THEN
        PERFORM pg_notify('colloquy_queue', NEW.site_id::text || ' queued ' ||
            json_build_object('id', NEW.id, 'thread_id', NEW.thread_id, 'status', NEW.status)::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER comments_notify_queue
    AFTER INSERT OR UPDATE OF status ON comments
    FOR EACH ROW EXECUTE FUNCTION colloquy_notify_queue_of_comment();

CREATE FUNCTION colloquy_notify_claim() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('colloquy_queue', OLD.site_id::text || ' released ' ||
            json_build_object('id', OLD.comment_id, 'moderator_id', OLD.moderator_id)::text);
    ELSE
        PERFORM pg_notify('colloquy_queue', NEW.site_id::text || ' claimed ' ||
            json_build_object(
                'id', NEW.comment_id,
                'claimed_by', json_build_object(
                    'id', NEW.moderator_id,
                    'email', (SELECT email FROM moderators WHERE id = NEW.moderator_id)),
                'claimed_until',
                    to_char(NEW.claimed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
            )::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER comment_claims_notify
    AFTER INSERT OR UPDATE OR DELETE ON comment_claims
    FOR EACH ROW EXECUTE FUNCTION colloquy_notify_claim();

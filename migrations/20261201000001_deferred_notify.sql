-- Announcements a transaction may defer until after its commit.
--
-- A transaction that calls pg_notify takes Postgres's notify lock when it commits and holds it
-- through the commit's WAL flush, so notifying commits run one after another: no group commit,
-- and a submit's throughput was bounded by one fsync at a time. The application's hot write
-- paths now set `colloquy.defer_notify` for their transaction only (SET LOCAL); the triggers then
-- append each announcement to the transaction-local setting `colloquy.deferred_notes` (one
-- `channel<TAB>payload` per line), the application reads it just before COMMIT and, once
-- committed, relays the announcements in batches from one connection per node (see
-- src/db/notes.rs). Every other writer — other code paths, psql, an import — is announced by
-- the triggers exactly as before.

CREATE FUNCTION colloquy_announce(channel text, payload text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('colloquy.defer_notify', true) = 'on' THEN
        PERFORM set_config('colloquy.deferred_notes',
            coalesce(current_setting('colloquy.deferred_notes', true), '')
                || channel || E'\t' || payload || E'\n',
            true);
    ELSE
        PERFORM pg_notify(channel, payload);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION colloquy_notify_thread_of_comment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM colloquy_announce('colloquy_threads', OLD.thread_id::text || ':' || OLD.id::text);
    ELSE
        PERFORM colloquy_announce('colloquy_threads', NEW.thread_id::text || ':' || NEW.id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION colloquy_notify_thread() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM colloquy_announce('colloquy_threads', OLD.id::text);
    ELSE
        PERFORM colloquy_announce('colloquy_threads', NEW.id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION colloquy_notify_queue_of_comment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN ('pending', 'spam') THEN
        PERFORM colloquy_announce('colloquy_queue', NEW.site_id::text || ' resolved ' ||
            json_build_object('id', NEW.id, 'from', OLD.status, 'status', NEW.status)::text);
    END IF;
    IF NEW.status IN ('pending', 'spam') THEN
        PERFORM colloquy_announce('colloquy_queue', NEW.site_id::text || ' queued ' ||
            json_build_object('id', NEW.id, 'thread_id', NEW.thread_id, 'status', NEW.status)::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION colloquy_notify_claim() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM colloquy_announce('colloquy_queue', OLD.site_id::text || ' released ' ||
            json_build_object('id', OLD.comment_id, 'moderator_id', OLD.moderator_id)::text);
    ELSE
        PERFORM colloquy_announce('colloquy_queue', NEW.site_id::text || ' claimed ' ||
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

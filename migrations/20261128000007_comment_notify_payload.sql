-- The thread-change announcement now names the comment too (`<thread id>:<comment id>`), so
-- live updates (Server-Sent Events) can push that one comment instead of re-reading a thread.
-- Listeners that only care about the thread read the part before the colon.

CREATE OR REPLACE FUNCTION colloquy_notify_thread_of_comment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('colloquy_threads', OLD.thread_id::text || ':' || OLD.id::text);
    ELSE
        PERFORM pg_notify('colloquy_threads', NEW.thread_id::text || ':' || NEW.id::text);
    END IF;
    RETURN NULL;
END
$$;

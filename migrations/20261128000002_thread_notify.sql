-- Any change to a thread's comments (or to the thread itself), whatever made it — the API, a
-- moderator, an import, a manual UPDATE — is announced on channel `colloquy_threads` with the
-- thread id. Nodes use it to drop cached thread pages (and, later, to feed live updates), so
-- every node sees a change right after it commits.

CREATE FUNCTION colloquy_notify_thread_of_comment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('colloquy_threads', OLD.thread_id::text);
    ELSE
        PERFORM pg_notify('colloquy_threads', NEW.thread_id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER comments_notify_thread
    AFTER INSERT OR UPDATE OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION colloquy_notify_thread_of_comment();

CREATE FUNCTION colloquy_notify_thread() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('colloquy_threads', OLD.id::text);
    ELSE
        PERFORM pg_notify('colloquy_threads', NEW.id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER threads_notify
    AFTER UPDATE OR DELETE ON threads
    FOR EACH ROW EXECUTE FUNCTION colloquy_notify_thread();

-- An author's recent history for the moderation pipeline (flood limits, duplicates, first
-- comment), as one function planned once per connection.
--
-- As a prepared statement this query was planned again on every call: Postgres kept choosing
-- a custom plan for it, and planning its eight subqueries cost ~1.1 ms of server CPU per
-- submitted comment against ~0.02 ms to run it. A PL/pgSQL function caches its query's plan for
-- the session, and the SET clause makes that plan the generic one: every predicate here is an
-- equality or range on indexed columns, which a generic plan serves as well; `$10 > 0` becomes
-- a one-time filter.

CREATE FUNCTION colloquy_author_history(
    p_site uuid, p_user uuid, p_net inet, p_thread uuid, p_body text, p_duplicate_window_s float8,
    p_editing uuid, p_user_cap int8, p_ip_cap int8, p_guest_cap int8)
RETURNS TABLE (
    since_last_s float8,
    user_last_minute int8,
    ip_last_minute int8,
    guests_last_minute int8,
    user_window_frees_in_s float8,
    ip_window_frees_in_s float8,
    guests_window_frees_in_s float8,
    duplicate bool,
    has_approved bool)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH mine AS (
        SELECT c.created_at FROM comments c
        WHERE c.site_id = p_site AND c.user_id = p_user AND c.created_at > now() - interval '1 minute'
          AND c.id IS DISTINCT FROM p_editing
        ORDER BY c.created_at LIMIT p_user_cap
    ), from_ip AS (
        SELECT c.created_at FROM comments c
        -- By network (IPv6 by /64): p_net is the key `client_net` made.
        WHERE c.site_id = p_site AND c.author_ip IS NOT NULL AND colloquy_client_net(c.author_ip) = p_net
          AND c.created_at > now() - interval '1 minute'
          AND c.id IS DISTINCT FROM p_editing
        ORDER BY c.created_at LIMIT p_ip_cap
    ), guests AS (
        SELECT c.created_at FROM comments c
        WHERE c.site_id = p_site AND c.author_provider = 'guest' AND p_guest_cap > 0
          AND c.created_at > now() - interval '1 minute'
          AND c.id IS DISTINCT FROM p_editing
        ORDER BY c.created_at LIMIT p_guest_cap
    )
    SELECT
        (SELECT extract(epoch FROM now() - max(c.created_at))::float8 FROM comments c
          WHERE c.site_id = p_site AND c.user_id = p_user AND c.id IS DISTINCT FROM p_editing),
        (SELECT count(*) FROM mine),
        (SELECT count(*) FROM from_ip),
        (SELECT count(*) FROM guests),
        (SELECT extract(epoch FROM min(m.created_at) + interval '1 minute' - now())::float8 FROM mine m),
        (SELECT extract(epoch FROM min(f.created_at) + interval '1 minute' - now())::float8 FROM from_ip f),
        (SELECT extract(epoch FROM min(g.created_at) + interval '1 minute' - now())::float8 FROM guests g),
        EXISTS (SELECT 1 FROM comments c
                WHERE c.thread_id = p_thread AND c.user_id = p_user AND md5(c.body_markdown) = md5(p_body)
                  AND c.body_markdown = p_body AND c.status <> 'deleted'
                  AND c.created_at > now() - make_interval(secs => p_duplicate_window_s)
                  AND c.id IS DISTINCT FROM p_editing),
        EXISTS (SELECT 1 FROM comments c
                WHERE c.site_id = p_site AND c.user_id = p_user AND c.status = 'approved');
END
$$;

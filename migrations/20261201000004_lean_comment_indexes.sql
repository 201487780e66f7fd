-- Fewer indexes on `comments`: every index is written by every submit (issue 12), so each one
-- must serve a query the product runs.
--
-- * comments_site_ip_idx (site_id, author_ip, created_at): nothing filters stored comments by
--   raw address any more; flood limits count by network through comments_site_client_net_idx,
--   and bans match the submitter's address, not stored rows.
-- * comments_thread_user_body_idx (thread_id, user_id, md5(body)): the duplicate check now reads
--   the author's comments of the duplicate window on the site through
--   comments_site_user_created_idx (one index range per author; a flood limit bounds how many
--   an author writes), then compares thread and text.
-- * comments_site_user_idx (site_id, user_id, status): folded into
--   comments_site_user_created_idx, which now carries the status, so the author panel's counts
--   by status and the first-comment check stay index-only.

DROP INDEX comments_site_ip_idx;
DROP INDEX comments_thread_user_body_idx;
DROP INDEX comments_site_user_idx;
DROP INDEX comments_site_user_created_idx;
CREATE INDEX comments_site_user_created_idx ON comments (site_id, user_id, created_at) INCLUDE (status);

CREATE OR REPLACE FUNCTION colloquy_author_history(
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
        -- The author's comments on the site within the window (an index range), then the
        -- thread and text.
        EXISTS (SELECT 1 FROM comments c
                WHERE c.site_id = p_site AND c.user_id = p_user
                  AND c.created_at > now() - make_interval(secs => p_duplicate_window_s)
                  AND c.thread_id = p_thread AND c.body_markdown = p_body AND c.status <> 'deleted'
                  AND c.id IS DISTINCT FROM p_editing),
        EXISTS (SELECT 1 FROM comments c
                WHERE c.site_id = p_site AND c.user_id = p_user AND c.status = 'approved');
END
$$;

-- Everything the moderation pipeline reads before it decides, and everything a submit reads
-- before its write transaction, each in one round trip (issue 12).
--
-- A submit used to read in six statements, each its own round trip and its own turn of a
-- pooled connection: the idempotency key, the thread, the guest's user, the bans, the author's
-- history, the author's trust and the rules version. Round trips, not the reads, were the cost:
-- every one of these is an index lookup of a few microseconds, against tens of microseconds of
-- protocol, scheduling and wake-ups on both sides. Like `colloquy_author_history`, these are
-- PL/pgSQL so their plans are made once per connection, generic.

-- The pipeline's facts about an author on a site: matching bans (as parallel arrays, ordered
-- as the pipeline picks them: real bans before shadow bans, oldest first), the history
-- (`colloquy_author_history`), trust (a guest is never trusted: anyone can type an email) and
-- the site's rules version.
CREATE FUNCTION colloquy_pipeline_facts(
    p_site uuid, p_user uuid, p_email text, p_ip inet, p_net inet, p_thread uuid, p_body text,
    p_duplicate_window_s float8, p_editing uuid, p_user_cap int8, p_ip_cap int8, p_guest_cap int8)
RETURNS TABLE (
    ban_ids uuid[],
    ban_kinds text[],
    ban_shadows bool[],
    since_last_s float8,
    user_last_minute int8,
    ip_last_minute int8,
    guests_last_minute int8,
    user_window_frees_in_s float8,
    ip_window_frees_in_s float8,
    guests_window_frees_in_s float8,
    duplicate bool,
    has_approved bool,
    trusted bool,
    premoderated bool,
    rules_version int8)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT
        coalesce(b.ids, '{}'), coalesce(b.kinds, '{}'), coalesce(b.shadows, '{}'),
        h.since_last_s, h.user_last_minute, h.ip_last_minute, h.guests_last_minute,
        h.user_window_frees_in_s, h.ip_window_frees_in_s, h.guests_window_frees_in_s,
        h.duplicate, h.has_approved,
        coalesce(t.trusted, false), coalesce(t.premoderated, false),
        coalesce((SELECT s.rules_version FROM sites s WHERE s.id = p_site), 0)::int8
    FROM colloquy_author_history(p_site, p_user, p_net, p_thread, p_body, p_duplicate_window_s,
                                 p_editing, p_user_cap, p_ip_cap, p_guest_cap) h
    CROSS JOIN LATERAL (
        SELECT array_agg(x.id ORDER BY x.shadow, x.created_at) AS ids,
               array_agg(x.kind ORDER BY x.shadow, x.created_at) AS kinds,
               array_agg(x.shadow ORDER BY x.shadow, x.created_at) AS shadows
        FROM bans x
        WHERE x.site_id = p_site AND (x.until IS NULL OR x.until > now())
          AND ((x.kind = 'user' AND x.user_id = p_user)
            OR (x.kind = 'email' AND x.email = lower(p_email))
            OR (x.kind = 'ip' AND p_ip <<= x.ip))
    ) b
    LEFT JOIN LATERAL (
        SELECT su.trusted
                   AND NOT EXISTS (SELECT 1 FROM identities i
                                   WHERE i.user_id = su.user_id AND i.provider = 'guest')
                   AS trusted,
               su.premoderated
        FROM site_users su WHERE su.site_id = p_site AND su.user_id = p_user
    ) t ON true;
END
$$;

-- What a submit reads before its write transaction: the stored answer of its Idempotency-Key
-- (when there is one, nothing else is read: the request is a replay), the thread of its uri,
-- the user of a returning guest, and the pipeline's facts about that author on that thread.
CREATE FUNCTION colloquy_submit_context(
    p_site uuid, p_uri text, p_idem_author text, p_idem_key text, p_guest_subject text,
    p_user uuid, p_email text, p_ip inet, p_net inet, p_body text, p_duplicate_window_s float8,
    p_user_cap int8, p_ip_cap int8, p_guest_cap int8)
RETURNS TABLE (
    idem_hash text,
    idem_status int2,
    idem_body jsonb,
    thread_id uuid,
    thread_locked bool,
    thread_untitled bool,
    thread_without_url bool,
    user_id uuid,
    ban_ids uuid[],
    ban_kinds text[],
    ban_shadows bool[],
    since_last_s float8,
    user_last_minute int8,
    ip_last_minute int8,
    guests_last_minute int8,
    user_window_frees_in_s float8,
    ip_window_frees_in_s float8,
    guests_window_frees_in_s float8,
    duplicate bool,
    has_approved bool,
    trusted bool,
    premoderated bool,
    rules_version int8)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_hash text;
    v_status int2;
    v_body jsonb;
    v_thread uuid;
    v_locked bool;
    v_untitled bool;
    v_without_url bool;
    v_user uuid := p_user;
BEGIN
    IF p_idem_key IS NOT NULL THEN
        SELECT k.request_hash, k.response_status, k.response_body INTO v_hash, v_status, v_body
        FROM idempotency_keys k
        WHERE k.site_id = p_site AND k.author = p_idem_author AND k.key = p_idem_key
          AND k.created_at > now() - interval '24 hours';
        IF FOUND THEN
            -- The facts' columns hold neutral values (nothing read): a replay is not judged.
            RETURN QUERY SELECT v_hash, v_status, v_body, NULL::uuid, NULL::bool, NULL::bool,
                NULL::bool, NULL::uuid, '{}'::uuid[], '{}'::text[], '{}'::bool[], NULL::float8,
                0::int8, 0::int8, 0::int8, NULL::float8, NULL::float8, NULL::float8,
                false, false, false, false, 0::int8;
            RETURN;
        END IF;
    END IF;
    SELECT t.id, t.locked, t.title IS NULL, t.url IS NULL
    INTO v_thread, v_locked, v_untitled, v_without_url
    FROM threads t WHERE t.site_id = p_site AND t.uri = p_uri;
    IF v_user IS NULL AND p_guest_subject IS NOT NULL THEN
        SELECT i.user_id INTO v_user
        FROM identities i WHERE i.provider = 'guest' AND i.subject = p_guest_subject;
    END IF;
    RETURN QUERY
    SELECT NULL::text, NULL::int2, NULL::jsonb, v_thread, v_locked, v_untitled, v_without_url,
           v_user, f.*
    FROM colloquy_pipeline_facts(p_site, v_user, p_email, p_ip, p_net, v_thread, p_body,
                                 p_duplicate_window_s, NULL, p_user_cap, p_ip_cap, p_guest_cap) f;
END
$$;

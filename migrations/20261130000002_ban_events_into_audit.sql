-- Ban appeal decisions made before audit_actions existed were recorded only in ban_events. Since
-- then every appeal decision is (also) an `appeal.upheld` / `appeal.overturned` row of
-- audit_actions, which the site's audit listing reads; copy the earlier ones so the listing
-- covers them too. ban_events stays as the per-ban trail, still written.
INSERT INTO audit_actions (site_id, actor_kind, actor_id, action, target_kind, target_id, before, after, note, created_at)
SELECT site_id, actor_kind, actor_id,
       CASE action WHEN 'appeal_upheld' THEN 'appeal.upheld' ELSE 'appeal.overturned' END,
       'appeal', appeal_id,
       '{"status": "open"}'::jsonb,
       jsonb_build_object(
           'status', CASE action WHEN 'appeal_upheld' THEN 'upheld' ELSE 'overturned' END,
           'kind', 'ban',
           'comment_id', NULL,
           'ban_id', ban_id),
       note, created_at
FROM ban_events
ORDER BY id;

-- Appeals: a commenter contests a rejection (their comment was rejected or filed as spam) or a
-- ban on a site. Appeals form their own moderator queue; a moderator upholds or overturns each
-- one, and the author sees the outcome. The decision and the change it makes (approving the
-- comment, lifting the ban) commit in one transaction together with their audit row.

CREATE TABLE appeals (
    id          uuid        NOT NULL,
    site_id     uuid        NOT NULL,
    kind        text        NOT NULL,
    comment_id  uuid,
    -- Null once the ban itself was deleted by a moderator: the appeal and its outcome stay.
    ban_id      uuid,
    user_id     uuid        NOT NULL,
    message     text        NOT NULL,
    status      text        NOT NULL DEFAULT 'open',
    decided_by  uuid,
    decided_at  timestamptz,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT appeals_pkey PRIMARY KEY (id),
    CONSTRAINT appeals_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT appeals_comment_fkey FOREIGN KEY (comment_id) REFERENCES comments (id) ON DELETE CASCADE,
    CONSTRAINT appeals_ban_fkey FOREIGN KEY (ban_id) REFERENCES bans (id) ON DELETE SET NULL,
    CONSTRAINT appeals_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT appeals_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES moderators (id) ON DELETE SET NULL,
    CONSTRAINT appeals_kind_check CHECK (kind IN ('comment', 'ban')),
    CONSTRAINT appeals_status_check CHECK (status IN ('open', 'upheld', 'overturned')),
    -- A comment appeal names its comment; a ban appeal never names a comment.
    CONSTRAINT appeals_target_check CHECK (
        (kind = 'comment' AND comment_id IS NOT NULL AND ban_id IS NULL)
        OR (kind = 'ban' AND comment_id IS NULL)
    ),
    -- Decided exactly when no longer open.
    CONSTRAINT appeals_decision_check CHECK ((status = 'open') = (decided_at IS NULL)),
    CONSTRAINT appeals_message_check CHECK (char_length(message) BETWEEN 1 AND 2000)
);
-- One open appeal per comment (or ban) per user: a second one while the first waits is a 409.
-- Partial unique indexes, so a decided appeal doesn't stop a later one.
CREATE UNIQUE INDEX appeals_open_comment_key ON appeals (comment_id, user_id) WHERE status = 'open' AND comment_id IS NOT NULL;
CREATE UNIQUE INDEX appeals_open_ban_key ON appeals (ban_id, user_id) WHERE status = 'open' AND ban_id IS NOT NULL;
-- The moderators' queue: a site's appeals by status, oldest first.
CREATE INDEX appeals_site_status_idx ON appeals (site_id, status, created_at, id);
-- A commenter's own appeals, and the thread's lookup of the viewer's appeals.
CREATE INDEX appeals_user_idx ON appeals (user_id, created_at, id);

-- What happened to a ban, by whom: bans have no status machine of their own, so decisions on
-- ban appeals (and the lift an overturn makes) are audited here, like moderation_events is for
-- comments. No foreign key on ban_id: the trail outlives a deleted ban.
CREATE TABLE ban_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    site_id     uuid        NOT NULL,
    ban_id      uuid        NOT NULL,
    appeal_id   uuid,
    -- appeal_upheld | appeal_overturned (the ban lifted)
    action      text        NOT NULL,
    actor_kind  text        NOT NULL,
    actor_id    uuid,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ban_events_pkey PRIMARY KEY (id),
    CONSTRAINT ban_events_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT ban_events_action_check CHECK (action IN ('appeal_upheld', 'appeal_overturned')),
    CONSTRAINT ban_events_actor_kind_check CHECK (actor_kind IN ('moderator', 'system'))
);
CREATE INDEX ban_events_site_idx ON ban_events (site_id, created_at, id);
CREATE INDEX ban_events_ban_idx ON ban_events (ban_id, id);

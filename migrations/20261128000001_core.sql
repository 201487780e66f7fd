-- The comment core: sites, threads, users and their identities, comments, the audit trail of
-- status changes, and idempotency keys. Every table that grows with traffic carries site_id and
-- its hot indexes lead with it, so the schema can later be distributed by site (Citus).

CREATE TABLE sites (
    id             uuid        NOT NULL,
    slug           text        NOT NULL,
    name           text        NOT NULL,
    -- Browser origins allowed to embed the widget and call /api/v1 (CORS).
    origins        text[]      NOT NULL DEFAULT '{}',
    -- Login providers commenters may use on this site (wordpress, twitter, ...).
    providers      text[]      NOT NULL DEFAULT '{}',
    guests         boolean     NOT NULL DEFAULT false,
    policy         text        NOT NULL,
    max_depth      integer     NOT NULL,
    edit_window_s  integer     NOT NULL,
    flags_to_hold  integer     NOT NULL,
    -- A closed site takes no new comments (reads still work).
    closed         boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sites_pkey PRIMARY KEY (id),
    CONSTRAINT sites_slug_key UNIQUE (slug),
    CONSTRAINT sites_slug_format CHECK (slug ~ '^[a-z0-9-]{2,64}$'),
    CONSTRAINT sites_policy_check CHECK (policy IN ('pre', 'post', 'first_time')),
    CONSTRAINT sites_max_depth_check CHECK (max_depth BETWEEN 1 AND 50),
    CONSTRAINT sites_edit_window_check CHECK (edit_window_s >= 0),
    CONSTRAINT sites_flags_to_hold_check CHECK (flags_to_hold >= 1)
);

CREATE TABLE threads (
    id          uuid        NOT NULL,
    site_id     uuid        NOT NULL,
    uri         text        NOT NULL,
    title       text,
    url         text,
    locked      boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT threads_pkey PRIMARY KEY (id),
    CONSTRAINT threads_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    -- One thread per page: the first comment creates it, concurrent first comments share it.
    CONSTRAINT threads_site_uri_key UNIQUE (site_id, uri)
);

CREATE TABLE users (
    id            uuid        NOT NULL,
    name          text        NOT NULL,
    -- Private: shown to moderators only, never in public JSON.
    email         text,
    avatar_url    text,
    profile_url   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id)
);

-- How a user is known to a provider. `guest` identities are keyed by the case-folded email.
CREATE TABLE identities (
    id              uuid        NOT NULL,
    user_id         uuid        NOT NULL,
    provider        text        NOT NULL,
    subject         text        NOT NULL,
    email           text,
    email_verified  boolean     NOT NULL DEFAULT false,
    profile         jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT identities_pkey PRIMARY KEY (id),
    CONSTRAINT identities_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    -- The same provider account always maps to the same user.
    CONSTRAINT identities_provider_subject_key UNIQUE (provider, subject)
);
CREATE INDEX identities_user_idx ON identities (user_id);

CREATE TABLE comments (
    id                 uuid        NOT NULL,
    site_id            uuid        NOT NULL,
    thread_id          uuid        NOT NULL,
    parent_id          uuid,
    -- The top-level comment of this comment's conversation (itself for top-level comments):
    -- a page of a thread is a page of top-level comments with their whole reply trees.
    root_id            uuid        NOT NULL,
    depth              integer     NOT NULL,
    user_id            uuid        NOT NULL,
    -- Snapshots at posting time, as WordPress keeps them: a later guest using the same email
    -- must not be able to rename earlier comments.
    author_provider    text        NOT NULL,
    author_name        text        NOT NULL,
    author_url         text,
    author_email       text,
    author_ip          inet,
    author_user_agent  text,
    body_markdown      text        NOT NULL,
    body_html          text        NOT NULL,
    status             text        NOT NULL,
    -- Why the pipeline decided what it did: [{rule, kind, matched, ...}].
    reasons            jsonb       NOT NULL DEFAULT '[]',
    score              integer     NOT NULL DEFAULT 0,
    -- Bumped on every change; moderators send it back as If-Match.
    version            integer     NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    edited_at          timestamptz,
    CONSTRAINT comments_pkey PRIMARY KEY (id),
    CONSTRAINT comments_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT comments_thread_fkey FOREIGN KEY (thread_id) REFERENCES threads (id) ON DELETE CASCADE,
    CONSTRAINT comments_parent_fkey FOREIGN KEY (parent_id) REFERENCES comments (id),
    CONSTRAINT comments_user_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT comments_status_check CHECK (status IN ('pending', 'approved', 'spam', 'rejected', 'deleted')),
    CONSTRAINT comments_depth_check CHECK (depth >= 1),
    CONSTRAINT comments_root_check CHECK ((parent_id IS NULL) = (root_id = id)),
    CONSTRAINT comments_reasons_array CHECK (jsonb_typeof(reasons) = 'array')
);
-- Thread pages: visible top-level comments in time order (oldest/newest sorts).
CREATE INDEX comments_thread_roots_idx ON comments (thread_id, created_at, id) WHERE parent_id IS NULL;
-- Thread pages, sort=top.
CREATE INDEX comments_thread_roots_score_idx ON comments (thread_id, score DESC, created_at, id) WHERE parent_id IS NULL;
-- The reply trees of a page's top-level comments.
CREATE INDEX comments_root_idx ON comments (root_id, created_at);
-- Moderation queue and counts by status, per site, oldest first.
CREATE INDEX comments_site_status_idx ON comments (site_id, status, created_at, id);
-- An author's history on a site (first_time policy, moderator views).
CREATE INDEX comments_site_user_idx ON comments (site_id, user_id, status);
-- Counts of approved comments per thread.
CREATE INDEX comments_thread_status_idx ON comments (thread_id, status);

-- Every status change, with who made it and why, written in the same transaction as the change.
CREATE TABLE moderation_events (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    site_id      uuid        NOT NULL,
    comment_id   uuid        NOT NULL,
    -- pipeline | moderator | author | flags | system
    actor_kind   text        NOT NULL,
    actor_id     uuid,
    from_status  text,
    to_status    text        NOT NULL,
    reasons      jsonb       NOT NULL DEFAULT '[]',
    note         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT moderation_events_pkey PRIMARY KEY (id),
    CONSTRAINT moderation_events_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT moderation_events_comment_fkey FOREIGN KEY (comment_id) REFERENCES comments (id) ON DELETE CASCADE,
    CONSTRAINT moderation_events_actor_kind_check CHECK (actor_kind IN ('pipeline', 'moderator', 'author', 'flags', 'system'))
);
CREATE INDEX moderation_events_site_idx ON moderation_events (site_id, created_at, id);
CREATE INDEX moderation_events_comment_idx ON moderation_events (comment_id, id);

-- A retried POST with the same key by the same author answers the stored first response.
CREATE TABLE idempotency_keys (
    site_id         uuid        NOT NULL,
    -- Who sent it (user id); keys are only unique per author.
    author          text        NOT NULL,
    key             text        NOT NULL,
    -- Hash of the request body: reusing a key for a different request is refused.
    request_hash    text        NOT NULL,
    response_status smallint    NOT NULL,
    response_body   jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (site_id, author, key),
    CONSTRAINT idempotency_keys_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

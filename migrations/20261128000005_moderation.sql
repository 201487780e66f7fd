-- Moderation: bans, auto-moderation rules, per-site trust of commenters, reader flags and
-- votes, and the history of edits. Every table carries site_id and leads its hot index with it.

-- A ban stops a user, an email address or an IP range from commenting on a site. `shadow`
-- bans accept the comment as spam and show it to its author only; `until` makes a ban timed.
CREATE TABLE bans (
    id          uuid        NOT NULL,
    site_id     uuid        NOT NULL,
    kind        text        NOT NULL,
    user_id     uuid,
    -- Case-folded address.
    email       text,
    ip          cidr,
    shadow      boolean     NOT NULL DEFAULT false,
    until       timestamptz,
    reason      text,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bans_pkey PRIMARY KEY (id),
    CONSTRAINT bans_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT bans_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT bans_kind_check CHECK (kind IN ('user', 'email', 'ip')),
    -- Exactly the column of its kind is set.
    CONSTRAINT bans_target_check CHECK (
        (kind = 'user') = (user_id IS NOT NULL)
        AND (kind = 'email') = (email IS NOT NULL)
        AND (kind = 'ip') = (ip IS NOT NULL)
    )
);
CREATE INDEX bans_site_idx ON bans (site_id, created_at);

-- Auto-moderation rules of a site. `pattern` is a word, a regex, a number of links, an email
-- domain or a CIDR, by kind; `action` is what a match does.
CREATE TABLE rules (
    id          uuid        NOT NULL,
    site_id     uuid        NOT NULL,
    kind        text        NOT NULL,
    pattern     text        NOT NULL,
    action      text        NOT NULL,
    enabled     boolean     NOT NULL DEFAULT true,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rules_pkey PRIMARY KEY (id),
    CONSTRAINT rules_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT rules_kind_check CHECK (kind IN ('word', 'regex', 'max_links', 'email_domain', 'ip')),
    CONSTRAINT rules_action_check CHECK (action IN ('reject', 'spam', 'hold'))
);
CREATE INDEX rules_site_idx ON rules (site_id, created_at);

-- How a site treats one commenter: trusted users skip rules, spam checks and the policy;
-- premoderated users always wait.
CREATE TABLE site_users (
    site_id       uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    trusted       boolean     NOT NULL DEFAULT false,
    premoderated  boolean     NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT site_users_pkey PRIMARY KEY (site_id, user_id),
    CONSTRAINT site_users_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE,
    CONSTRAINT site_users_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT site_users_trust_check CHECK (NOT (trusted AND premoderated))
);

-- One flag per reader per comment.
CREATE TABLE flags (
    comment_id  uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    site_id     uuid        NOT NULL,
    reason      text        NOT NULL,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT flags_pkey PRIMARY KEY (comment_id, user_id),
    CONSTRAINT flags_comment_fkey FOREIGN KEY (comment_id) REFERENCES comments (id) ON DELETE CASCADE,
    CONSTRAINT flags_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT flags_reason_check CHECK (reason IN ('spam', 'abuse', 'off_topic', 'other'))
);
CREATE INDEX flags_site_idx ON flags (site_id, created_at);

-- One vote per reader per comment; comments.score is their sum, kept in the same transaction.
CREATE TABLE votes (
    comment_id  uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    site_id     uuid        NOT NULL,
    value       smallint    NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT votes_pkey PRIMARY KEY (comment_id, user_id),
    CONSTRAINT votes_comment_fkey FOREIGN KEY (comment_id) REFERENCES comments (id) ON DELETE CASCADE,
    CONSTRAINT votes_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT votes_value_check CHECK (value IN (-1, 1))
);

-- Every edit keeps the text it replaced.
CREATE TABLE comment_revisions (
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    comment_id    uuid        NOT NULL,
    site_id       uuid        NOT NULL,
    -- author | moderator
    editor_kind   text        NOT NULL,
    editor_id     uuid,
    body_markdown text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT comment_revisions_pkey PRIMARY KEY (id),
    CONSTRAINT comment_revisions_comment_fkey FOREIGN KEY (comment_id) REFERENCES comments (id) ON DELETE CASCADE,
    CONSTRAINT comment_revisions_editor_check CHECK (editor_kind IN ('author', 'moderator'))
);
CREATE INDEX comment_revisions_comment_idx ON comment_revisions (comment_id, id);

-- Per-site overrides of [limits] (comment_interval_s, comments_per_minute_user, ...).
ALTER TABLE sites ADD COLUMN limits jsonb NOT NULL DEFAULT '{}';

-- Flood checks read an author's and an IP's recent comments on a site.
CREATE INDEX comments_site_ip_idx ON comments (site_id, author_ip, created_at);
CREATE INDEX comments_site_user_created_idx ON comments (site_id, user_id, created_at);
-- Duplicate check: the same author and body in a thread.
CREATE INDEX comments_thread_user_body_idx ON comments (thread_id, user_id, md5(body_markdown));

-- A shadow-banned author's comment is stored as spam but shown to its author as published.
ALTER TABLE comments ADD COLUMN shadow boolean NOT NULL DEFAULT false;

-- Moderator search: `?q=` is full-text over the comment's markdown with the 'simple'
-- configuration (no stemming, no stop words: blogs are in every language, and a moderator
-- searching for a spammer's word wants that word). The expression must match the query's
-- `to_tsvector('simple', body_markdown)` exactly for the planner to use the index.
CREATE INDEX comments_body_fts_idx ON comments USING gin (to_tsvector('simple', body_markdown));

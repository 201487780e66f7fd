-- Flood limits key a client by its network, not its exact address: an IPv4 address as itself,
-- an IPv6 address by its /64 (one subscriber or host typically holds a whole /64, so stepping
-- through its addresses must not dodge a per-IP limit). The same as `http::client_ip::client_net`
-- in the app, which binds the key it compares with. (The app stores IPv4 clients as IPv4, never
-- as IPv4-mapped IPv6.)
CREATE FUNCTION colloquy_client_net(ip inet) RETURNS inet
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN family(ip) = 6 THEN network(set_masklen(ip, 64))::inet
            ELSE network(set_masklen(ip, 32))::inet END;

-- The per-IP limit reads a network's last minute on a site: an equality on the key, then a
-- range on created_at, in order, so it stops after the limit's worth of rows.
CREATE INDEX comments_site_client_net_idx
    ON comments (site_id, colloquy_client_net(author_ip), created_at)
    WHERE author_ip IS NOT NULL;

-- The per-site guest limit reads the site's guest comments of the last minute.
CREATE INDEX comments_site_guest_created_idx
    ON comments (site_id, created_at) WHERE author_provider = 'guest';

-- The edit limits read an author's, and a comment's, author edits of the last minute (per
-- comment, comment_revisions_comment_idx already serves).
CREATE INDEX comment_revisions_site_editor_idx
    ON comment_revisions (site_id, editor_id, created_at) WHERE editor_kind = 'author';

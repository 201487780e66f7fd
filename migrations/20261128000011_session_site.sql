-- A commenter session belongs to the site it was opened on. The token lives in that blog's
-- page storage, so the blog (or a script on it) holds it; bound to its site, it can't be used
-- to post, edit or vote as the reader on any other blog served by the same Colloquy.
ALTER TABLE sessions ADD COLUMN site_id uuid;
ALTER TABLE sessions ADD CONSTRAINT sessions_site_fkey FOREIGN KEY (site_id) REFERENCES sites (id) ON DELETE CASCADE;

-- Each node keeps a site's rule set compiled once per version (moderation::matcher) and asks
-- only for this number on a submit. Any write to a site's rules bumps it in the writer's own
-- transaction — through the API, the CLI, an import or plain SQL alike — so every node sees a
-- changed rule set on its next submit. The bump is an UPDATE of the site's row, which also
-- serializes concurrent rule creates of one site (the per-site rule cap counts under it).
ALTER TABLE sites ADD COLUMN rules_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION colloquy_bump_rules_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE sites SET rules_version = rules_version + 1 WHERE id = OLD.site_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.site_id <> OLD.site_id) THEN
        UPDATE sites SET rules_version = rules_version + 1 WHERE id = NEW.site_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER rules_bump_version
    AFTER INSERT OR UPDATE OR DELETE ON rules
    FOR EACH ROW EXECUTE FUNCTION colloquy_bump_rules_version();

-- Guests are known by email *and* a secret key their browser keeps (POST .../comments,
-- `guest.key`; only its SHA-256 is stored, in the identity's subject
-- `{site_id}:{email}:{sha256(key)}`). Before this, a guest was whoever typed the email: the
-- subject was `{site_id}:{email}`, so a stranger typing an approved guest's email shared their
-- author id and was published at once under `first_time`.
--
-- Those old identities can't be tied to a key after the fact (anyone could be the first to
-- claim one), so they are set aside under `legacy:`: no new comment joins them. Their users,
-- comments, history and bans stay as they are, and moderators still see each comment's email.
-- A returning guest starts a new, keyed identity; under `first_time` their first comment waits
-- once more.
UPDATE identities
SET subject = 'legacy:' || subject
WHERE provider = 'guest' AND subject NOT LIKE 'legacy:%';

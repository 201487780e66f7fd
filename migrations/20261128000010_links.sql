-- Linking another login to a signed-in commenter (POST /api/v1/me/identities/{provider}).
-- The user to link to travels with the login attempt, on the server: the callback attaches the
-- provider identity to this user instead of looking one up or creating one. It is never taken
-- from the browser, so a link can't be forged by editing a URL; the state row is single use and
-- expires like any login attempt. Erasing the user drops their attempts in flight.
ALTER TABLE login_states
    ADD COLUMN link_user_id uuid,
    ADD CONSTRAINT login_states_link_user_fkey FOREIGN KEY (link_user_id) REFERENCES users (id) ON DELETE CASCADE;

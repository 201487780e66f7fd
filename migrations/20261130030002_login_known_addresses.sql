-- Login throttling without lock-out by strangers (issue 10). Failures are now counted per
-- email and client address together, per address, and per email across all addresses; past the
-- per-email ceiling every further attempt waits out an exponential backoff, except from an
-- address this account has logged in from before: those are kept here, as SHA-256 digests of
-- the email and of the address (IPv6 by /64), like login_failures.
CREATE TABLE login_known_addresses (
    email_hash       bytea       NOT NULL,
    ip_hash          bytea       NOT NULL,
    last_success_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT login_known_addresses_pkey PRIMARY KEY (email_hash, ip_hash)
);
CREATE INDEX login_known_addresses_last_success_idx ON login_known_addresses (last_success_at);

-- The per email-and-address counter is the one every attempt reads first.
CREATE INDEX login_failures_email_ip_idx ON login_failures (email_hash, ip_hash, at);

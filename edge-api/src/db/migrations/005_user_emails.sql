-- Email uniqueness moves off users (docs/scaling.md, "Constraints and indexes that change"): a unique
-- index on users (email) cannot be enforced once users is distributed by id. user_emails is keyed by
-- the email (distributed by email under Citus); registering claims it, creates the user, then
-- confirms it (db/accounts.ts). users.email stays, as the account's own copy for GET /me.
CREATE TABLE user_emails (
  -- Lower-cased, as users.email: the primary key is case-insensitive uniqueness.
  email text PRIMARY KEY,
  user_id uuid NOT NULL,
  -- pending: claimed by a register that has not confirmed yet (it may have died; see the saga).
  state text NOT NULL CHECK (state IN ('pending', 'confirmed')),
  claimed_at timestamptz NOT NULL
);

INSERT INTO user_emails (email, user_id, state, claimed_at)
SELECT email, id, 'confirmed', created_at FROM users;

DROP INDEX uq_users_email;

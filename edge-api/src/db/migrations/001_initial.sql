-- The metadata schema. Every user-scoped table carries owner_id and leads its primary key with it, so
-- the schema can be distributed by owner (Citus-style) without cross-shard transactions. The only
-- global table is chunks: storage is content-addressed and shared, ownership is per user.

CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  password_hash text NOT NULL,
  storage_quota bigint NOT NULL CHECK (storage_quota >= 0),
  storage_used bigint NOT NULL DEFAULT 0 CHECK (storage_used >= 0),
  -- The per-user change sequence. Each change transaction bumps it while holding the user row lock,
  -- so its order is the commit order per user (a global sequence is not: a lower value can commit
  -- later, and a reader paging by it would skip a change).
  journal_seq bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Emails are stored lower-cased, so this is case-insensitive uniqueness.
CREATE UNIQUE INDEX uq_users_email ON users (email);

CREATE TABLE devices (
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  name text NOT NULL,
  -- SHA-256 of the token's random part; the token itself is never stored.
  token_hash bytea NOT NULL,
  last_sync_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Revoked devices keep their row so version history can still name them.
  revoked_at timestamptz,
  PRIMARY KEY (owner_id, id)
);

CREATE TABLE files (
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  id uuid NOT NULL,
  parent_id uuid,
  name text NOT NULL,
  is_folder boolean NOT NULL,
  current_version integer NOT NULL CHECK (current_version >= 1),
  size bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  deleted_at timestamptz,
  PRIMARY KEY (owner_id, id),
  FOREIGN KEY (owner_id, parent_id) REFERENCES files (owner_id, id)
);
CREATE INDEX idx_files_parent ON files (owner_id, parent_id);
CREATE INDEX idx_files_owner ON files (owner_id, updated_at DESC);
-- One live item per name in a folder. NULLS NOT DISTINCT (PostgreSQL 15+) makes the root, whose
-- parent is NULL, a folder like any other.
CREATE UNIQUE INDEX uq_files_parent_name ON files (owner_id, parent_id, name) NULLS NOT DISTINCT
  WHERE deleted_at IS NULL;

CREATE TABLE file_versions (
  owner_id uuid NOT NULL,
  file_id uuid NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  action text NOT NULL CHECK (action IN ('created', 'modified', 'moved', 'deleted')),
  -- The file as it was at this version, so history, restore and the changes feed need no replay.
  name text NOT NULL,
  parent_id uuid,
  is_folder boolean NOT NULL,
  deleted boolean NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  device_id uuid,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (owner_id, file_id, version),
  FOREIGN KEY (owner_id, file_id) REFERENCES files (owner_id, id) ON DELETE CASCADE,
  FOREIGN KEY (owner_id, device_id) REFERENCES devices (owner_id, id)
);
CREATE INDEX idx_file_versions_age ON file_versions (created_at);

CREATE TABLE chunks (
  hash text PRIMARY KEY CHECK (hash ~ '^sha256:[0-9a-f]{64}$'),
  -- Known once an upload has been verified against the store (HEAD with checksum mode).
  size bigint CHECK (size >= 0),
  -- One reference per occurrence in a stored version's chunk list.
  reference_count integer NOT NULL DEFAULT 0 CHECK (reference_count >= 0),
  -- An unreferenced chunk is kept until then: the grace period that covers uploads in flight.
  collectable_after timestamptz NOT NULL,
  -- Set when garbage collection has claimed the chunk; from then on no commit may rely on it.
  deleting_since timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_chunks_collectable ON chunks (collectable_after) WHERE reference_count = 0;

-- Who has proved they hold a chunk's bytes (by uploading them, verified). Dedup answers `exists`
-- only from here, never from the global chunks table.
CREATE TABLE chunk_owners (
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  hash text NOT NULL REFERENCES chunks (hash) ON DELETE CASCADE,
  verified_at timestamptz NOT NULL,
  PRIMARY KEY (owner_id, hash)
);

CREATE TABLE file_chunks (
  owner_id uuid NOT NULL,
  file_id uuid NOT NULL,
  version integer NOT NULL,
  chunk_index integer NOT NULL CHECK (chunk_index >= 0),
  chunk_hash text NOT NULL REFERENCES chunks (hash),
  PRIMARY KEY (owner_id, file_id, version, chunk_index),
  FOREIGN KEY (owner_id, file_id, version) REFERENCES file_versions (owner_id, file_id, version)
    ON DELETE CASCADE
);
CREATE INDEX idx_file_chunks_hash ON file_chunks (owner_id, chunk_hash);

-- The change journal: one row per version, numbered by users.journal_seq. Pruning a version drops
-- its row (the file's later change supersedes it).
CREATE TABLE changes (
  owner_id uuid NOT NULL,
  seq bigint NOT NULL,
  file_id uuid NOT NULL,
  version integer NOT NULL,
  PRIMARY KEY (owner_id, seq),
  FOREIGN KEY (owner_id, file_id, version) REFERENCES file_versions (owner_id, file_id, version)
    ON DELETE CASCADE
);

-- Written in the same transaction as each change; the notifier relays and marks rows sent.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  owner_id uuid NOT NULL,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX idx_outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- Fixed-window counters for login and register, in the database so every instance shares them.
CREATE TABLE rate_limits (
  bucket text NOT NULL,
  window_start timestamptz NOT NULL,
  hits integer NOT NULL,
  PRIMARY KEY (bucket, window_start)
);

-- Idempotency-Key: the first answer to a key, replayed for a retry with the same request.
CREATE TABLE idempotency_keys (
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key text NOT NULL,
  request_hash text NOT NULL,
  status integer NOT NULL,
  body jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (owner_id, key)
);
CREATE INDEX idx_idempotency_keys_age ON idempotency_keys (created_at);

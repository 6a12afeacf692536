-- Chunk reference counts move to the owner (docs/scaling.md, "The one global table"). Before this, a
-- commit updated the global chunks.reference_count in the same transaction as the user's version: under
-- Citus, a transaction across the user's shard and the chunks' shards. Now:
-- - chunk_owners (distributed by owner, colocated with the user) holds what the user's transactions
--   need: the size and this user's reference count of each chunk it proved it holds;
-- - chunk_objects (distributed by hash) is the store's object list, written only by single statements
--   outside any user transaction: the pin of upload-url and commit verification, and the collector.

CREATE TABLE chunk_objects (
  hash text PRIMARY KEY CHECK (hash ~ '^sha256:[0-9a-f]{64}$'),
  -- The size last verified against the store (HEAD); NULL until an upload verified.
  size bigint CHECK (size >= 0),
  -- Uploads and verifications about to rely on the object keep it until then.
  pinned_until timestamptz NOT NULL,
  -- Set when the collector has claimed the object; a pin that finds it set cannot rely on the object.
  deleting_since timestamptz,
  -- Non-NULL: the collector should look at this object once its pin expires (every pin sets it, and
  -- dropping an ownership row does). A number from gc_checks, so the collector clears only the mark it
  -- read, never a newer one.
  gc_check bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE chunk_object_gc_checks;
CREATE INDEX idx_chunk_objects_gc ON chunk_objects (pinned_until)
  WHERE gc_check IS NOT NULL AND deleting_since IS NULL;
CREATE INDEX idx_chunk_objects_claimed ON chunk_objects (deleting_since) WHERE deleting_since IS NOT NULL;

-- Every chunk row becomes an object row. Unreferenced ones are marked for the collector; referenced
-- ones are held by their owners (below), and are marked again when an owner drops its row.
INSERT INTO chunk_objects (hash, size, pinned_until, deleting_since, gc_check, created_at)
SELECT hash, size, collectable_after, deleting_since,
  CASE WHEN reference_count = 0 THEN nextval('chunk_object_gc_checks') END, created_at
FROM chunks;

ALTER TABLE chunk_owners
  DROP CONSTRAINT chunk_owners_hash_fkey,
  ADD COLUMN size bigint CHECK (size >= 0),
  ADD COLUMN reference_count integer NOT NULL DEFAULT 0 CHECK (reference_count >= 0),
  -- While reference_count = 0: the ownership row is dropped after this (the grace period).
  ADD COLUMN collectable_after timestamptz;

-- A version can only name chunks its owner held, so every (owner, chunk) of a chunk list has its
-- ownership row; add any that a hand-edited database lacks (the owner can read the chunk already).
INSERT INTO chunk_owners (owner_id, hash, verified_at)
SELECT DISTINCT fc.owner_id, fc.chunk_hash, now() FROM file_chunks fc
ON CONFLICT (owner_id, hash) DO NOTHING;

UPDATE chunk_owners o SET size = c.size, collectable_after = c.collectable_after
FROM chunks c WHERE c.hash = o.hash;
UPDATE chunk_owners o SET reference_count = t.n
FROM (SELECT owner_id, chunk_hash, count(*)::int AS n FROM file_chunks GROUP BY owner_id, chunk_hash) AS t
WHERE o.owner_id = t.owner_id AND o.hash = t.chunk_hash;
-- Ownership of a chunk never verified (no size) or already claimed by the collector holds nothing.
DELETE FROM chunk_owners o USING chunks c
WHERE c.hash = o.hash AND o.reference_count = 0 AND (c.size IS NULL OR c.deleting_since IS NOT NULL);
ALTER TABLE chunk_owners
  ALTER COLUMN size SET NOT NULL,
  ALTER COLUMN collectable_after SET NOT NULL;
CREATE INDEX idx_chunk_owners_collectable ON chunk_owners (collectable_after) WHERE reference_count = 0;
CREATE INDEX idx_chunk_owners_hash ON chunk_owners (hash);
CREATE INDEX idx_chunk_uploads_hash ON chunk_uploads (hash);

-- A chunk list names only chunks its owner holds (colocated: both keyed by owner).
ALTER TABLE file_chunks
  DROP CONSTRAINT file_chunks_chunk_hash_fkey,
  ADD CONSTRAINT file_chunks_owner_chunk_fkey FOREIGN KEY (owner_id, chunk_hash)
    REFERENCES chunk_owners (owner_id, hash);

DROP TABLE chunks;

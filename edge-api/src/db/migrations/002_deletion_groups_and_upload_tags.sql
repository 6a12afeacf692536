-- The delete operation that deleted a file (shared by a folder and everything deleted with it), so
-- restoring the folder brings back exactly what that delete took, not what was deleted before it.
ALTER TABLE files ADD COLUMN deletion_id uuid;
CREATE INDEX idx_files_deletion ON files (owner_id, deletion_id) WHERE deletion_id IS NOT NULL;

-- Upload URLs issued and not yet verified. Each carries a random tag that the presigned PUT writes
-- into the object's metadata (a signed header), so a verification proves that THIS user sent the
-- bytes: the object being there (someone else may have uploaded it) proves nothing about this user.
CREATE TABLE chunk_uploads (
  owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  hash text NOT NULL,
  tag text NOT NULL,
  issued_at timestamptz NOT NULL,
  PRIMARY KEY (owner_id, hash)
);
CREATE INDEX idx_chunk_uploads_age ON chunk_uploads (issued_at);

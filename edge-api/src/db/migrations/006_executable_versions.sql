-- Extension (shared-protocol `Executable`): whether a version's content is executable, stored with the
-- version as its chunk list is, so a chmod that leaves the bytes alone is a version of its own. Existing
-- rows were written before clients could say, and are not executable.
ALTER TABLE file_versions ADD COLUMN executable boolean NOT NULL DEFAULT false;

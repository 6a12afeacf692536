-- Idempotency-Key answers are now written by the change's own transaction, so there are no pending
-- claims any more (status 0 marked one under the old scheme, whose answer was stored after the change
-- committed). A claim left pending by that scheme has no answer to replay: let its key run again.
DELETE FROM idempotency_keys WHERE status = 0;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_status_success CHECK (status BETWEEN 200 AND 299);

import { describe, expect, it } from "vitest";
import { ApiError, ErrorEnvelope, errorStatus, isApiError } from "./errors.ts";

describe("errors", () => {
  it("maps every contract code to the status it implies", () => {
    expect(errorStatus).toMatchObject({
      validation_failed: 400,
      unauthorized: 401,
      forbidden: 403,
      not_found: 404,
      email_taken: 409,
      version_conflict: 409,
      name_conflict: 409,
      file_deleted: 409,
      chunks_missing: 422,
      payload_too_large: 413,
      rate_limited: 429,
      quota_exceeded: 507,
      internal: 500,
    });
  });

  it("round-trips through the envelope with code, status and details", () => {
    const error = new ApiError("version_conflict", "expected version 7, file is at 7", { currentVersion: 7 });
    const envelope = ErrorEnvelope.parse(JSON.parse(JSON.stringify(error.toEnvelope())));
    const back = ApiError.fromEnvelope(envelope);
    expect(back.status).toBe(409);
    expect(back.details).toEqual({ currentVersion: 7 });
    expect(isApiError(back, "version_conflict")).toBe(true);
    expect(isApiError(back, "name_conflict")).toBe(false);
  });
});

import { ApiError, type ValidationIssue } from "@wsync/shared-protocol";
import type { z } from "zod";
import type { AppContext } from "./context.ts";

export function issuesOf(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === "number" ? key : String(key))),
    message: issue.message,
  }));
}

/** Parses `input` with `schema`, or throws `validation_failed` listing every issue. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = "request"): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ApiError("validation_failed", `the ${what} is not valid`, { issues: issuesOf(result.error) });
  }
  return result.data;
}

/** The request body as JSON, checked against `schema`; malformed JSON is `validation_failed` too. */
export async function readJson<S extends z.ZodType>(c: AppContext, schema: S): Promise<z.output<S>> {
  return validate(schema, await readJsonValue(c), "body");
}

/** The request body as JSON, not yet checked; malformed JSON is `validation_failed`. */
export async function readJsonValue(c: AppContext): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("validation_failed", "the body is not valid JSON", {
      issues: [{ path: [], message: "malformed JSON" }],
    });
  }
}

/** The query string as a plain object (last value wins), for schema validation. */
export function readQuery(c: AppContext): Record<string, string> {
  return c.req.query();
}

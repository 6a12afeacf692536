import { describe } from "vitest";
import { describeApiSuite } from "./testing/api-suite.ts";

/**
 * The API suite against a running stack at WSYNC_API_URL, e.g. `npm start` or `npm run start:scaled`:
 *   WSYNC_API_URL=http://127.0.0.1:8787 npx vitest run --project edge-api src/api.external.test.ts
 * Skipped (and said so) without it.
 */
const url = process.env.WSYNC_API_URL;
if (url) {
  describeApiSuite(`an external stack at ${url}`, async () => ({ url, close: async () => {} }));
} else {
  describe.skip("the API suite against an external stack (set WSYNC_API_URL to run it)", () => {});
}

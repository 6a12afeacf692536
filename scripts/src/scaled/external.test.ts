import { describe } from "vitest";
import { describeNotifierSuite } from "./notifier-suite.ts";

/**
 * The notifier suite against a running stack, e.g. `npm start` or `npm run start:scaled`:
 *   WSYNC_API_URL=http://127.0.0.1:8787 WSYNC_NOTIFIER_URL=http://127.0.0.1:8788 \
 *     npx vitest run --project scripts src/scaled/external.test.ts
 * Skipped (and said so) without them.
 */
const apiUrl = process.env.WSYNC_API_URL;
const notifierUrl = process.env.WSYNC_NOTIFIER_URL;
if (apiUrl && notifierUrl) {
  describeNotifierSuite(`an external stack at ${apiUrl} and ${notifierUrl}`, async () => ({
    apiUrl,
    notifierUrl,
  }));
} else {
  describe.skip("the notifier suite against an external stack (set WSYNC_API_URL and WSYNC_NOTIFIER_URL)", () => {});
}

import { ApiClient } from "@wsync/shared-protocol";
import { describe, expect, it } from "vitest";
import { startTestStack } from "./local-stack.ts";

describe("startTestStack", () => {
  it("runs the edge API and the notifier on free ports against the run's services, until close()", async () => {
    const stack = await startTestStack();
    try {
      expect((await fetch(`${stack.apiUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${stack.notifierUrl}/healthz`)).status).toBe(200);
      expect(stack.embedded.postgres).toBe(false);
      expect(stack.embedded.s3).toBe(false);
      expect(stack.embedded.bus).toBe(!process.env.KAFKA_BROKERS);
      const session = await new ApiClient({ baseUrl: stack.apiUrl }).register({
        email: "fixture@example.com",
        password: "correct horse battery",
        deviceName: "test",
      });
      const me = await new ApiClient({ baseUrl: stack.apiUrl, token: session.token }).me();
      expect(me.email).toBe("fixture@example.com");
    } finally {
      await stack.close();
    }
    const refused = await fetch(`${stack.apiUrl}/healthz`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });
});

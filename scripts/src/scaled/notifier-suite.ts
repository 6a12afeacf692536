import { ApiClient, routes } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WsDevice } from "./ws-device.ts";

export interface NotifierTarget {
  apiUrl: string;
  notifierUrl: string;
}

/**
 * The notifier's contract seen from outside (API.md, "Notifications"), against any running stack: the
 * one of `npm start`, or the scaled one, where sockets of one user land on different instances.
 */
export function describeNotifierSuite(name: string, target: () => Promise<NotifierTarget>) {
  describe(`the notifier over WebSockets and long polls: ${name}`, () => {
    let t: NotifierTarget;
    const sockets: WsDevice[] = [];
    const open = (token: string, via?: "header" | "query") => {
      const socket = new WsDevice(t.notifierUrl, token, via);
      sockets.push(socket);
      return socket;
    };
    const signUp = async () => {
      const anonymous = new ApiClient({ baseUrl: t.apiUrl, notifierUrl: t.notifierUrl });
      const email = `notifier-${crypto.randomUUID().slice(0, 12)}@example.com`;
      const session = await anonymous.register({
        email,
        password: "correct horse battery",
        deviceName: "one",
      });
      const second = await anonymous.login({ email, password: "correct horse battery", deviceName: "two" });
      return {
        one: { ...session, client: anonymous.withToken(session.token) },
        two: { ...second, client: anonymous.withToken(second.token) },
      };
    };

    beforeAll(async () => {
      t = await target();
    }, 180_000);
    afterAll(async () => {
      await Promise.all(sockets.map((socket) => socket.close()));
    });

    it("hello on connect (token in the header or the query); a bad token is closed with 4401", async () => {
      const { one } = await signUp();
      expect(await open(one.token).waitFor((m) => m.type === "hello")).toMatchObject({ type: "hello" });
      expect(await open(one.token, "query").waitFor((m) => m.type === "hello")).toMatchObject({
        type: "hello",
      });
      expect((await open(`${one.token.slice(0, -4)}AAAA`).closed).code).toBe(4401);
    });

    it("a change reaches every socket of its user, whichever instance holds it, and no one else's", async () => {
      const alice = await signUp();
      const bob = await signUp();
      // Through a round-robin balancer, six sockets land on every instance behind it.
      const mine = [alice.one, alice.two, alice.one, alice.two, alice.one, alice.two].map((d) =>
        open(d.token),
      );
      const theirs = open(bob.one.token);
      await Promise.all([...mine, theirs].map((s) => s.waitFor((m) => m.type === "hello")));
      const receipt = await alice.one.client.createFile({ parentId: null, name: "n", isFolder: true });
      const frames = await Promise.all(
        mine.map((s) => s.waitFor((m) => m.type === "changed" && m.fileId === receipt.fileId)),
      );
      for (const frame of frames) {
        expect(frame).toMatchObject({ version: 1, action: "created", deviceId: alice.one.deviceId });
      }
      await bob.one.client.createFile({ parentId: null, name: "bob's", isFolder: true });
      await theirs.waitFor((m) => m.type === "changed");
      expect(theirs.messages.some((m) => m.type === "changed" && m.fileId === receipt.fileId)).toBe(false);
    });

    it("the long poll answers a change after `since`, and `changed: false` when its timeout runs out", async () => {
      const { one, two } = await signUp();
      const poller = new ApiClient({ baseUrl: t.apiUrl, notifierUrl: t.notifierUrl, token: two.token });
      const { syncToken } = await one.client.changes();
      const idle = await poller.poll(syncToken, 1);
      expect(idle).toEqual({ changed: false, syncToken });
      const waiting = poller.poll(syncToken, 30);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await one.client.createFile({ parentId: null, name: "p", isFolder: true });
      const answer = await waiting;
      expect(answer.changed).toBe(true);
      expect(answer.syncToken).not.toBe(syncToken);
    });

    it("revoking a device closes its sockets on every instance with 4401, and its polls get 401", async () => {
      const { one, two } = await signUp();
      const revoked = [open(two.token), open(two.token), open(two.token)];
      await Promise.all(revoked.map((s) => s.waitFor((m) => m.type === "hello")));
      await one.client.revokeDevice(two.deviceId);
      for (const socket of revoked) expect((await socket.closed).code).toBe(4401);
      const { syncToken } = await one.client.changes();
      const poll = await fetch(
        `${t.notifierUrl}${routes.poll}?since=${encodeURIComponent(syncToken)}&timeout=1`,
        {
          headers: { authorization: `Bearer ${two.token}` },
        },
      );
      expect(poll.status).toBe(401);
    });
  });
}

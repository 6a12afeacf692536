import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nginxConfig } from "./nginx-config.ts";

const nginx = ["/usr/sbin/nginx", "nginx"].find((bin) => spawnSync(bin, ["-v"]).status === 0);

describe("the scaled stack's nginx configuration", () => {
  const input = (dir: string) => ({
    dir,
    apiPort: 18787,
    notifierPort: 18788,
    apiUpstreams: ["127.0.0.1:1001", "127.0.0.1:1002"],
    notifierUpstreams: ["127.0.0.1:2001", "127.0.0.1:2002"],
    maxBodyBytes: 4_194_304,
  });

  it("balances every instance, upgrades WebSockets on the notifier port, and passes the client address on", () => {
    const text = nginxConfig(input("/run/x"));
    for (const server of ["127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:2001", "127.0.0.1:2002"]) {
      expect(text).toContain(`server ${server} max_fails=1`);
    }
    expect(text).toContain("listen 127.0.0.1:18787;");
    expect(text).toContain("proxy_set_header Upgrade $http_upgrade;");
    expect(text).toContain("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
    expect(text).not.toMatch(/ip_hash|sticky|hash \$/);
    // Below Node's 5 s keep-alive timeout, so nginx never reuses a socket the instance is closing.
    expect(text).toContain("keepalive_timeout 4s;");
  });

  it.skipIf(!nginx)("passes nginx -t", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wsync-nginx-test-"));
    try {
      for (const temp of ["body", "proxy", "fastcgi", "uwsgi", "scgi"])
        await mkdir(join(dir, "tmp", temp), { recursive: true });
      await writeFile(join(dir, "nginx.conf"), nginxConfig(input(dir)));
      const check = spawnSync(
        nginx ?? "nginx",
        ["-t", "-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")],
        {
          encoding: "utf8",
        },
      );
      expect(check.status, check.stderr).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { ApiError, LoginRequest, RegisterRequest, type Session } from "@wsync/shared-protocol";
import { Hono } from "hono";
import { issueDeviceToken } from "../../auth/device-token.ts";
import { hashPassword, verifyNoPassword, verifyPassword } from "../../auth/password.ts";
import {
  addDevice,
  createAccountWithDevice,
  findUserByEmail,
  listActiveDevices,
  readAccount,
  revokeDevice,
} from "../../db/accounts.ts";
import type { AppContext, AppDeps, AppEnv } from "../context.ts";
import { existingId } from "../ids.ts";
import { readJson } from "../json-body.ts";
import { enforceRateLimit } from "../rate-limit.ts";

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function addressOf(deps: AppDeps, c: AppContext): string {
  return deps.clientAddress(c) ?? "unknown";
}

/** Register and login: no token needed, rate-limited, each answer a new device with its own token. */
export function sessionRoutes(deps: AppDeps) {
  const { sql, config } = deps;
  return new Hono<AppEnv>()
    .post("/auth/register", async (c) => {
      await enforceRateLimit(
        deps,
        `register:address:${addressOf(deps, c)}`,
        config.rateLimits.registerPerAddress,
      );
      const body = await readJson(c, RegisterRequest);
      const userId = crypto.randomUUID();
      const deviceId = crypto.randomUUID();
      const passwordHash = await hashPassword(body.password, config.passwordHashIterations);
      const issued = await issueDeviceToken(userId, deviceId);
      await createAccountWithDevice(
        sql,
        {
          userId,
          email: normalizeEmail(body.email),
          passwordHash,
          storageQuota: config.storageQuotaBytes,
          device: { deviceId, name: body.deviceName, tokenHash: issued.secretHash },
        },
        deps.clock(),
        config.emailClaimTakeoverSeconds,
      );
      return c.json({ userId, deviceId, token: issued.token } satisfies Session, 201);
    })
    .post("/auth/login", async (c) => {
      await enforceRateLimit(deps, `login:address:${addressOf(deps, c)}`, config.rateLimits.loginPerAddress);
      const body = await readJson(c, LoginRequest);
      const email = normalizeEmail(body.email);
      await enforceRateLimit(deps, `login:email:${email}`, config.rateLimits.loginPerEmail);
      const user = await findUserByEmail(sql, email);
      const valid = user
        ? await verifyPassword(body.password, user.password_hash)
        : await verifyNoPassword(body.password);
      if (!user || !valid) throw new ApiError("unauthorized", "wrong email or password");
      const deviceId = crypto.randomUUID();
      const issued = await issueDeviceToken(user.id, deviceId);
      await addDevice(
        sql,
        user.id,
        { deviceId, name: body.deviceName, tokenHash: issued.secretHash },
        deps.clock(),
      );
      return c.json({ userId: user.id, deviceId, token: issued.token } satisfies Session, 200);
    });
}

/** The signed-in device's account and its devices (behind `requireDevice`). */
export function accountRoutes(deps: AppDeps) {
  const { sql } = deps;
  return new Hono<AppEnv>()
    .get("/devices", async (c) => {
      const { userId, deviceId } = c.get("auth");
      return c.json({ devices: await listActiveDevices(sql, userId, deviceId) });
    })
    .delete("/devices/:deviceId", async (c) => {
      const deviceId = existingId(c.req.param("deviceId"), "device");
      await revokeDevice(sql, c.get("auth").userId, deviceId, deps.clock());
      // Nothing cached is per device (authentication always reads PostgreSQL, which is what makes a
      // revocation hold on every instance at once); the user's entries go all the same.
      await deps.cache.forgetOwner(c.get("auth").userId);
      return c.body(null, 204);
    })
    .get("/me", async (c) => c.json(await readAccount(sql, c.get("auth").userId)));
}

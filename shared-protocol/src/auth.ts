import { z } from "zod";
import { Id, Timestamp } from "./common.ts";
import { limits } from "./limits.ts";

export const Email = z.email().max(limits.emailMaxLength);
export const Password = z
  .string()
  .min(limits.passwordMinLength, `must be at least ${limits.passwordMinLength} characters`)
  .max(limits.passwordMaxLength);
export const DeviceName = z.string().trim().min(1).max(limits.deviceNameMaxLength);

/** `POST /api/v1/auth/register`. */
export const RegisterRequest = z.object({ email: Email, password: Password, deviceName: DeviceName });
export type RegisterRequest = z.infer<typeof RegisterRequest>;

/** `POST /api/v1/auth/login`: each login is a new device with its own token. */
export const LoginRequest = z.object({
  email: Email,
  // At login a short password is just wrong credentials, not malformed input.
  password: z.string().min(1).max(limits.passwordMaxLength),
  deviceName: DeviceName,
});
export type LoginRequest = z.infer<typeof LoginRequest>;

/** The answer to register (201) and login (200). */
export const Session = z.object({ userId: Id, deviceId: Id, token: z.string().min(1) });
export type Session = z.infer<typeof Session>;

export const Device = z.object({
  deviceId: Id,
  name: z.string(),
  lastSyncAt: Timestamp.nullable(),
  createdAt: Timestamp,
  current: z.boolean(),
});
export type Device = z.infer<typeof Device>;

/** `GET /api/v1/devices`. */
export const DeviceList = z.object({ devices: z.array(Device) });
export type DeviceList = z.infer<typeof DeviceList>;

/** `GET /api/v1/me`: quota and usage in bytes. */
export const Me = z.object({
  userId: Id,
  email: z.string(),
  storageQuota: z.number().int().min(0),
  storageUsed: z.number().int().min(0),
});
export type Me = z.infer<typeof Me>;

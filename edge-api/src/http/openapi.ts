import {
  ChangesPage,
  ChangesQuery,
  CommitRequest,
  CreateFileBatchRequest,
  CreateFileBatchResponse,
  CreateFileRequest,
  DeleteQuery,
  DeviceList,
  DownloadUrlsRequest,
  DownloadUrlsResponse,
  type ErrorCode,
  ErrorEnvelope,
  errorStatus,
  FileMetadata,
  IDEMPOTENCY_KEY_HEADER,
  IdempotencyKey,
  LoginRequest,
  limits,
  Me,
  MoveRequest,
  RegisterRequest,
  RestoreRequest,
  routes,
  Session,
  UploadUrlBatchRequest,
  UploadUrlBatchResponse,
  UploadUrlRequest,
  UploadUrlResponse,
  VersionList,
  VersionReceipt,
} from "@wsync/shared-protocol";
import { z } from "zod";

/**
 * The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, generated from the shared-protocol
 * schemas (the only declaration of the wire shapes), with every extension to ../shared/API.md marked
 * `x-wsync-extension` and described.
 */

const schemas = {
  RegisterRequest,
  LoginRequest,
  Session,
  DeviceList,
  Me,
  CreateFileRequest,
  VersionReceipt,
  CreateFileBatchRequest,
  CreateFileBatchResponse,
  UploadUrlRequest,
  UploadUrlResponse,
  UploadUrlBatchRequest,
  UploadUrlBatchResponse,
  CommitRequest,
  FileMetadata,
  MoveRequest,
  VersionList,
  RestoreRequest,
  DownloadUrlsRequest,
  DownloadUrlsResponse,
  ChangesPage,
  ErrorEnvelope,
} satisfies Record<string, z.ZodType>;
type SchemaName = keyof typeof schemas;

interface Operation {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  summary: string;
  description?: string;
  auth?: false;
  body?: SchemaName;
  query?: z.ZodObject;
  response: { status: number; schema?: SchemaName; description?: string };
  errors: ErrorCode[];
  extension?: true;
  idempotent?: true;
}

const fileId = "{fileId}";
const executableNote =
  "Extension: `executable` (optional, default false) says the content is executable (the owner exec bit " +
  "on POSIX); it is stored with the version and returned with its chunks (file, versions, changes).";
/** An OpenAPI path template from a route builder (which percent-encodes the braces). */
const template = (path: string) => decodeURIComponent(path);
const write: ErrorCode[] = ["validation_failed", "unauthorized", "not_found", "payload_too_large"];

const operations: Operation[] = [
  {
    method: "post",
    path: routes.register,
    summary: "Create an account and its first device",
    description:
      "Rate-limited per client address (`rate_limited` with `Retry-After` and `details.retryAfterSeconds`). " +
      "Passwords are stored as PBKDF2-SHA256 (600,000 iterations). Emails are compared case-insensitively.",
    auth: false,
    body: "RegisterRequest",
    response: { status: 201, schema: "Session" },
    errors: ["validation_failed", "email_taken", "rate_limited", "payload_too_large"],
  },
  {
    method: "post",
    path: routes.login,
    summary: "Sign in: each login is a new device with its own token",
    description: "Rate-limited per email and per client address.",
    auth: false,
    body: "LoginRequest",
    response: { status: 200, schema: "Session" },
    errors: ["validation_failed", "unauthorized", "rate_limited", "payload_too_large"],
  },
  {
    method: "get",
    path: routes.devices,
    summary: "The account's devices (revoked ones are not listed)",
    response: { status: 200, schema: "DeviceList" },
    errors: ["unauthorized"],
  },
  {
    method: "delete",
    path: routes.device("{deviceId}"),
    summary: "Revoke a device: its token stops working at once, here and on the notifier",
    description: "Revoking an already revoked device of this account is a no-op (204).",
    response: { status: 204, description: "Revoked" },
    errors: ["unauthorized", "not_found"],
  },
  {
    method: "get",
    path: routes.me,
    summary: "The account, its quota and usage in bytes",
    description: "`storageUsed` is the sum of the current sizes of the account's live (not deleted) files.",
    response: { status: 200, schema: "Me" },
    errors: ["unauthorized"],
  },
  {
    method: "post",
    path: routes.files,
    summary: "Create a file or folder at version 1",
    description:
      "A file's `chunks` are checked like a commit. A parent that is deleted is `file_deleted` " +
      "(`details.fileId` the parent, `details.currentVersion` its version); a parent that is a file is " +
      `\`validation_failed\`; folders nest at most ${limits.folderDepthMax} deep. ${executableNote} ` +
      "A folder with `executable: true` is `validation_failed`.",
    body: "CreateFileRequest",
    response: { status: 201, schema: "VersionReceipt" },
    errors: [...write, "name_conflict", "file_deleted", "chunks_missing", "quota_exceeded"],
    idempotent: true,
  },
  {
    method: "post",
    path: routes.filesBatch,
    summary: "Extension: create up to limits.createBatchMax files or folders in one request",
    description:
      `At most ${limits.createBatchMax} items, naming at most ${limits.createBatchChunksMax} chunks in all; ` +
      "more is `payload_too_large` (split the batch). A body that fails the schema anywhere is " +
      "`validation_failed` as a whole. Otherwise the answer is 200 with one result per item, in request " +
      "order: a `VersionReceipt` (the item is created at version 1), or the error envelope `POST /files` " +
      "would have answered for that item alone had the items been sent one after another in order " +
      "(`name_conflict` with `details.fileId`, also for a name an earlier item of the batch took; " +
      "`not_found`, `file_deleted` or `validation_failed` for its parent; `chunks_missing` with " +
      "`details.missing`; `quota_exceeded`). A refused item writes nothing and does not stop the others: " +
      "all created items commit together in one transaction, each with its own change in the feed, in " +
      "item order. An item's parent must exist before the request (not be created by the same batch). " +
      "Each item may carry `executable` as in `POST /files`.",
    body: "CreateFileBatchRequest",
    response: { status: 200, schema: "CreateFileBatchResponse" },
    errors: write,
    extension: true,
    idempotent: true,
  },
  {
    method: "post",
    path: routes.uploadUrl,
    summary: "A presigned PUT for one chunk, or exists: true when this user already owns it",
    description:
      "`exists` is true only for chunks this user has uploaded itself (verified): knowing a hash is " +
      "not proof of holding its bytes. `chunkId` is the hash's 64 hex digits. Extension: `uploadHeaders` " +
      "are signed headers the PUT must carry exactly: `x-amz-checksum-sha256` (the store rejects other " +
      "bytes) and `x-amz-meta-wsync-upload` (ties the upload to this user; a commit accepts a chunk only " +
      "when the stored object carries this user's tag). If another user uploads the same chunk before " +
      "this user's commit, the commit answers `chunks_missing` and the chunk must be uploaded again.",
    body: "UploadUrlRequest",
    response: { status: 200, schema: "UploadUrlResponse" },
    errors: write,
  },
  {
    method: "post",
    path: routes.uploadUrls,
    summary: "Extension: upload-url for up to limits.batchMax chunks in one round trip",
    description: `At most ${limits.batchMax} chunks per request; answers are in request order.`,
    body: "UploadUrlBatchRequest",
    response: { status: 200, schema: "UploadUrlBatchResponse" },
    errors: write,
    extension: true,
  },
  {
    method: "get",
    path: routes.changes,
    summary: "The account's changes after a sync token, in commit order, paged",
    description:
      "Extension: each change carries `deviceId`, the device that made it. A token this account did " +
      "not issue is `validation_failed`. Versions pruned by retention leave the feed with them (a later " +
      "change of the same file always follows). Extension: a change that carries `chunks` also carries " +
      "`executable`, the version's executable bit.",
    query: ChangesQuery,
    response: { status: 200, schema: "ChangesPage" },
    errors: ["validation_failed", "unauthorized"],
  },
  {
    method: "get",
    path: routes.file(fileId),
    summary: "A file's current metadata (deleted files included, with their last content)",
    description: "Extension: `executable`, the current version's executable bit.",
    response: { status: 200, schema: "FileMetadata" },
    errors: ["unauthorized", "not_found"],
  },
  {
    method: "post",
    path: routes.commit(fileId),
    summary: "Commit new content as version current+1 (optimistic locking)",
    description: `${executableNote} A commit that changes only \`executable\` (the same chunks) is a new version.`,
    body: "CommitRequest",
    response: { status: 200, schema: "VersionReceipt" },
    errors: [...write, "version_conflict", "file_deleted", "chunks_missing", "quota_exceeded"],
    idempotent: true,
  },
  {
    method: "patch",
    path: routes.file(fileId),
    summary: "Rename and/or move as version current+1",
    body: "MoveRequest",
    response: { status: 200, schema: "VersionReceipt" },
    errors: [...write, "version_conflict", "file_deleted", "name_conflict"],
    idempotent: true,
  },
  {
    method: "delete",
    path: routes.file(fileId),
    summary: "Soft delete as version N (current+1); a folder takes everything under it along",
    description:
      "Each item under a folder gets a deleted version of its own, deepest first, the folder last.",
    query: DeleteQuery,
    response: { status: 200, schema: "VersionReceipt" },
    errors: [...write, "version_conflict", "file_deleted"],
    idempotent: true,
  },
  {
    method: "get",
    path: routes.versions(fileId),
    summary: "A file's stored versions, newest first",
    description:
      "Versions older than the retention window (30 days by default) are pruned; the current one never. " +
      "Extension: each version carries `executable`; moves, deletes and restores keep that of the content.",
    response: { status: 200, schema: "VersionList" },
    errors: ["unauthorized", "not_found"],
  },
  {
    method: "post",
    path: routes.restore(fileId),
    summary: "Make the content of fromVersion the new version",
    description:
      "A live file keeps its name and folder (`modified`). A deleted file comes back (`created`) under its " +
      "name and folder of `fromVersion`, bringing back deleted folders above it; a deleted folder brings " +
      "back what the delete that took it took along.",
    body: "RestoreRequest",
    response: { status: 200, schema: "VersionReceipt" },
    errors: [...write, "version_conflict", "name_conflict", "quota_exceeded"],
    idempotent: true,
  },
  {
    method: "post",
    path: routes.downloadUrls,
    summary: "Presigned GETs for chunks of the user's own files",
    description: "Any hash not in a stored version of this user's files is `not_found` (`details.missing`).",
    body: "DownloadUrlsRequest",
    response: { status: 200, schema: "DownloadUrlsResponse" },
    errors: write,
  },
];

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  return z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" });
}

function ref(name: SchemaName) {
  return { $ref: `#/components/schemas/${name}` };
}

function errorResponses(codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, "internal" as const]) {
    const status = errorStatus[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: `Error envelope; code: ${list.map((c) => `\`${c}\``).join(", ")}`,
        content: { "application/json": { schema: ref("ErrorEnvelope") } },
        ...(status === 429 ? { headers: { "Retry-After": { schema: { type: "integer" } } } } : {}),
      },
    ]),
  );
}

function parameters(op: Operation) {
  const params: Record<string, unknown>[] = [...template(op.path).matchAll(/\{(\w+)\}/g)].map((match) => ({
    name: match[1],
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  for (const [name, field] of Object.entries(op.query?.shape ?? {})) {
    const optional = (field as z.ZodType).safeParse(undefined).success;
    params.push({ name, in: "query", required: !optional, schema: jsonSchema(field as z.ZodType, "input") });
  }
  if (op.idempotent) {
    params.push({
      name: IDEMPOTENCY_KEY_HEADER,
      in: "header",
      required: false,
      description:
        "Extension: makes the request safe to retry after a lost answer (the instance died, the connection " +
        "dropped). The answer is stored in the same database transaction as the change itself, so a retry " +
        "with the same key and the same request (method, path, query and body) gets the first answer " +
        "again, with the first status and the response header `Idempotent-Replayed: true`, and never " +
        "makes a second version or a spurious `version_conflict`. Concurrent duplicates wait for the first " +
        "and get its answer. The same key with a different request is `idempotency_key_reused` (422). " +
        "Only successful answers are stored: a request that failed changed nothing, and its retry runs " +
        "again. Keys are per account and remembered for 24 hours; use a fresh random key per change " +
        "(a UUID) and reuse it only for retries of that change.",
      schema: jsonSchema(IdempotencyKey, "input"),
    });
  }
  return params;
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const response = op.response.schema
      ? { description: "OK", content: { "application/json": { schema: ref(op.response.schema) } } }
      : { description: op.response.description ?? "OK" };
    if (op.idempotent) {
      Object.assign(response, {
        headers: {
          "Idempotent-Replayed": {
            description:
              "Extension: `true` when this is the stored answer to an earlier request with this Idempotency-Key.",
            schema: { type: "string", enum: ["true"] },
          },
        },
      });
    }
    const path = template(op.path);
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[op.method] = {
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.auth === false ? { security: [] } : {}),
      ...(op.extension ? { "x-wsync-extension": true } : {}),
      parameters: parameters(op),
      ...(op.body
        ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.body) } } } }
        : {}),
      responses: { [String(op.response.status)]: response, ...errorResponses(op.errors) },
    };
  }
  paths[routes.healthz] = {
    get: { summary: "The process serves", security: [], responses: { "200": { description: "OK" } } },
  };
  paths[routes.readyz] = {
    get: {
      summary: "The process can reach PostgreSQL and the object store",
      security: [],
      responses: { "200": { description: "Ready" }, ...errorResponses(["service_unavailable"]) },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "wsync edge API",
      version: "1.0.0",
      description:
        "The metadata API of wsync (contract: API.md). Every response carries `x-request-id`. Limits: " +
        `bodies up to ${limits.bodyMaxBytes} bytes (\`payload_too_large\`), ${limits.chunksPerVersionMax} ` +
        `chunks per version, chunks up to ${limits.chunkMaxBytes} bytes, presigned URLs valid ` +
        `${limits.presignedUrlTtlSeconds} s. Quota: \`quota_exceeded\` (507) when a change would take ` +
        "storage used over the quota. Server errors are `internal` (500) and never carry SQL or stack traces.",
    },
    servers: [{ url: "http://127.0.0.1:8787" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A device token" } },
      schemas: Object.fromEntries(
        Object.entries(schemas).map(([name, schema]) => [
          name,
          jsonSchema(schema, name.endsWith("Request") ? "input" : "output"),
        ]),
      ),
    },
  };
}

import type { z } from "zod";
import type { LoginRequest, RegisterRequest } from "./auth.ts";
import { DeviceList, Me, Session } from "./auth.ts";
import { ChangesPage } from "./changes.ts";
import type { ChunkHash } from "./chunk-hash.ts";
import { ApiError, ErrorEnvelope } from "./errors.ts";
import type {
  CommitRequest,
  CreateFileBatchRequest,
  CreateFileRequest,
  MoveRequest,
  RestoreRequest,
  UploadUrlBatchRequest,
  UploadUrlRequest,
} from "./files.ts";
import {
  CreateFileBatchResponse,
  DownloadUrlsResponse,
  FileMetadata,
  IDEMPOTENCY_KEY_HEADER,
  UploadUrlBatchResponse,
  UploadUrlResponse,
  VersionList,
  VersionReceipt,
} from "./files.ts";
import { PollResponse } from "./notifications.ts";
import { routes } from "./routes.ts";

/**
 * A request never reached an answer: DNS, refused connection, reset, timeout or abort. Distinct from
 * `ApiError` (the server answered with a contract error) so callers can retry it and nothing else.
 */
export class NetworkError extends Error {
  readonly code = "network_error" as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NetworkError";
  }
}

/**
 * The server answered, but not in the shape of the contract (a proxy's HTML 502, a body that fails its
 * schema). `status` is the HTTP status it came with.
 */
export class ProtocolError extends Error {
  readonly code = "protocol_error" as const;
  readonly status: number;
  constructor(message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
    this.status = status;
  }
}

/** Whether trying the same request again later may succeed: network trouble, 429, 5xx. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof ApiError) return error.status === 429 || error.status >= 500;
  if (error instanceof ProtocolError) return error.status === 429 || error.status >= 500;
  return false;
}

/** How long a `rate_limited` answer asked us to wait, in milliseconds, when it said. */
export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const seconds = error.details?.retryAfterSeconds;
  return typeof seconds === "number" && Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** The edge API, e.g. `http://127.0.0.1:8787` (no trailing path). */
  baseUrl: string;
  /** The notifier's HTTP base, for the long-poll fallback; e.g. `http://127.0.0.1:8788`. */
  notifierUrl?: string;
  token?: string;
  /** Injected for tests (e.g. Hono's `app.request`) or custom agents; defaults to global fetch. */
  fetch?: FetchLike;
  /** Per-request timeout; the long poll adds its own wait on top. Default 30 s. */
  timeoutMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Makes a create, commit, move, delete or restore safe to retry (the API's extension). */
  idempotencyKey?: string;
}

type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** A fetch-based client for every endpoint of the contract. Web APIs only: runs on Node, Deno, browsers. */
export class ApiClient {
  readonly baseUrl: string;
  readonly notifierUrl: string | undefined;
  readonly token: string | undefined;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.notifierUrl = options.notifierUrl?.replace(/\/+$/, "");
    this.token = options.token;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The same client speaking for another device (e.g. after login). */
  withToken(token: string): ApiClient {
    return new ApiClient({
      baseUrl: this.baseUrl,
      ...(this.notifierUrl ? { notifierUrl: this.notifierUrl } : {}),
      token,
      fetch: this.fetchImpl,
      timeoutMs: this.timeoutMs,
    });
  }

  register(body: z.input<typeof RegisterRequest>, options?: RequestOptions): Promise<Session> {
    return this.call("POST", routes.register, Session, { body, auth: false, ...options });
  }

  login(body: z.input<typeof LoginRequest>, options?: RequestOptions): Promise<Session> {
    return this.call("POST", routes.login, Session, { body, auth: false, ...options });
  }

  listDevices(options?: RequestOptions): Promise<DeviceList> {
    return this.call("GET", routes.devices, DeviceList, options);
  }

  async revokeDevice(deviceId: string, options?: RequestOptions): Promise<void> {
    await this.call("DELETE", routes.device(deviceId), null, options);
  }

  me(options?: RequestOptions): Promise<Me> {
    return this.call("GET", routes.me, Me, options);
  }

  createFile(body: CreateFileRequest, options?: RequestOptions): Promise<VersionReceipt> {
    return this.call("POST", routes.files, VersionReceipt, { body, ...options });
  }

  /**
   * Extension: up to `limits.createBatchMax` creates in one request and one server transaction. The
   * answer has one result per item, in order: a receipt, or the error envelope that item alone got.
   */
  createFiles(body: CreateFileBatchRequest, options?: RequestOptions): Promise<CreateFileBatchResponse> {
    return this.call("POST", routes.filesBatch, CreateFileBatchResponse, { body, ...options });
  }

  uploadUrl(body: UploadUrlRequest, options?: RequestOptions): Promise<UploadUrlResponse> {
    return this.call("POST", routes.uploadUrl, UploadUrlResponse, { body, ...options });
  }

  /** Extension: one round trip for up to `limits.batchMax` chunks, answers in request order. */
  uploadUrls(body: UploadUrlBatchRequest, options?: RequestOptions): Promise<UploadUrlBatchResponse> {
    return this.call("POST", routes.uploadUrls, UploadUrlBatchResponse, { body, ...options });
  }

  commit(fileId: string, body: CommitRequest, options?: RequestOptions): Promise<VersionReceipt> {
    return this.call("POST", routes.commit(fileId), VersionReceipt, { body, ...options });
  }

  getFile(fileId: string, options?: RequestOptions): Promise<FileMetadata> {
    return this.call("GET", routes.file(fileId), FileMetadata, options);
  }

  moveFile(fileId: string, body: MoveRequest, options?: RequestOptions): Promise<VersionReceipt> {
    return this.call("PATCH", routes.file(fileId), VersionReceipt, { body, ...options });
  }

  /** Soft delete recorded as the new version `version` (current plus 1). */
  deleteFile(fileId: string, version: number, options?: RequestOptions): Promise<VersionReceipt> {
    const path = `${routes.file(fileId)}?version=${encodeURIComponent(String(version))}`;
    return this.call("DELETE", path, VersionReceipt, options);
  }

  listVersions(fileId: string, options?: RequestOptions): Promise<VersionList> {
    return this.call("GET", routes.versions(fileId), VersionList, options);
  }

  restore(fileId: string, body: RestoreRequest, options?: RequestOptions): Promise<VersionReceipt> {
    return this.call("POST", routes.restore(fileId), VersionReceipt, { body, ...options });
  }

  downloadUrls(hashes: readonly ChunkHash[], options?: RequestOptions): Promise<DownloadUrlsResponse> {
    return this.call("POST", routes.downloadUrls, DownloadUrlsResponse, { body: { hashes }, ...options });
  }

  changes(query: { since?: string; limit?: number } = {}, options?: RequestOptions): Promise<ChangesPage> {
    const params = new URLSearchParams();
    if (query.since !== undefined) params.set("since", query.since);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    const search = params.size > 0 ? `?${params}` : "";
    return this.call("GET", `${routes.changes}${search}`, ChangesPage, options);
  }

  /** The served OpenAPI document, unparsed: its shape is the server's to describe. */
  openapi(options?: RequestOptions): Promise<unknown> {
    return this.call("GET", routes.openapi, null, { auth: false, ...options });
  }

  /** The notifier's long-poll fallback; needs `notifierUrl`. */
  poll(since: string, timeoutSeconds?: number, options?: RequestOptions): Promise<PollResponse> {
    if (!this.notifierUrl) throw new TypeError("poll needs the notifierUrl option");
    const params = new URLSearchParams({ since });
    if (timeoutSeconds !== undefined) params.set("timeout", String(timeoutSeconds));
    const url = `${this.notifierUrl}${routes.poll}?${params}`;
    const extraMs = (timeoutSeconds ?? 30) * 1000;
    return this.call("GET", url, PollResponse, { ...options, absolute: true, extraTimeoutMs: extraMs });
  }

  private async call<T>(
    method: Method,
    path: string,
    schema: z.ZodType<T> | null,
    options: RequestOptions & {
      body?: unknown;
      auth?: boolean;
      absolute?: boolean;
      extraTimeoutMs?: number;
    } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.auth !== false && this.token) headers.authorization = `Bearer ${this.token}`;
    if (options.idempotencyKey) headers[IDEMPOTENCY_KEY_HEADER] = options.idempotencyKey;

    const timeout = AbortSignal.timeout(this.timeoutMs + (options.extraTimeoutMs ?? 0));
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const url = options.absolute ? path : `${this.baseUrl}${path}`;

    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        signal,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      // Reading the body can fail too (a reset mid-body): that is still the network's fault.
      text = await response.text();
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new NetworkError(`${method} ${path}: ${reason}`, { cause });
    }

    const json = parseJson(text);
    if (!response.ok) throw errorFromResponse(method, path, response, json);
    if (schema === null) return json as T;
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ProtocolError(`${method} ${path}: answer does not match the contract`, response.status, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorFromResponse(method: Method, path: string, response: Response, json: unknown): Error {
  const envelope = ErrorEnvelope.safeParse(json);
  if (!envelope.success) {
    return new ProtocolError(
      `${method} ${path}: HTTP ${response.status} without an error envelope`,
      response.status,
    );
  }
  const error = ApiError.fromEnvelope(envelope.data);
  const retryAfter = response.headers.get("retry-after");
  if (retryAfter !== null && error.details?.retryAfterSeconds === undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) {
      return new ApiError(error.code, error.message, { ...error.details, retryAfterSeconds: seconds });
    }
  }
  return error;
}

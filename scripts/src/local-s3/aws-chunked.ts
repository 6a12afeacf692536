import { Transform, type TransformCallback } from "node:stream";
import { badRequest } from "./s3-error.ts";

const MAX_LINE = 4096;
const MIN_CHUNK = 8192;
const CRLF = "\r\n";

type State = "size" | "data" | "data-end" | "trailer" | "done";

/**
 * Decodes an `aws-chunked` body (`<hex size>[;ext]\r\n<bytes>\r\n ... 0\r\n<trailers>\r\n`) into the
 * object's bytes, as it streams; the trailing headers (e.g. `x-amz-checksum-crc32`) are in `trailers`
 * once the stream has ended. Malformed or cut-short framing fails the stream with an S3Error.
 */
export class AwsChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>();
  private state: State = "size";
  private line = "";
  private remaining = 0;
  private previousSize: number | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let at = 0;
      while (at < chunk.length) {
        if (this.state === "data") {
          const take = Math.min(this.remaining, chunk.length - at);
          this.push(chunk.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = "data-end";
          continue;
        }
        if (this.state === "done") throw malformed("bytes after the end of an aws-chunked body");
        const end = chunk.indexOf("\n", at);
        this.line += chunk.toString("latin1", at, end < 0 ? chunk.length : end + 1);
        at = end < 0 ? chunk.length : end + 1;
        if (this.line.length > MAX_LINE) throw malformed("an aws-chunked line is too long");
        if (end >= 0) this.endLine();
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.state === "done" ? null : badRequest("IncompleteBody", "The aws-chunked body ended early"));
  }

  private endLine(): void {
    if (!this.line.endsWith(CRLF)) throw malformed("aws-chunked lines must end with CRLF");
    const line = this.line.slice(0, -2);
    this.line = "";
    switch (this.state) {
      case "size": {
        const size = line.split(";")[0] ?? "";
        if (!/^[0-9a-fA-F]{1,15}$/.test(size)) throw malformed(`bad aws-chunked size line '${line}'`);
        this.remaining = Number.parseInt(size, 16);
        // As in S3: small chunks cost a signature each, so only the last may be under 8 KiB.
        if (this.remaining > 0 && this.previousSize !== undefined && this.previousSize < MIN_CHUNK) {
          throw badRequest(
            "InvalidChunkSizeError",
            "Only the last chunk is allowed to have a size less than 8192 bytes",
          );
        }
        this.previousSize = this.remaining;
        this.state = this.remaining === 0 ? "trailer" : "data";
        return;
      }
      case "data-end":
        if (line !== "") throw malformed("an aws-chunked chunk is longer than its size");
        this.state = "size";
        return;
      case "trailer": {
        if (line === "") {
          this.state = "done";
          return;
        }
        const colon = line.indexOf(":");
        if (colon <= 0) throw malformed(`bad aws-chunked trailer '${line}'`);
        this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        return;
      }
      default:
        throw malformed("unexpected aws-chunked framing");
    }
  }
}

function malformed(message: string) {
  return badRequest("InvalidRequest", message);
}

// What the clients actually sent, so tests can assert on retries, If-Match headers and bodies.
import type { IncomingHttpHeaders } from "node:http";
import type { RequestLogEntry } from "./types";

/** Headers worth asserting on. The Authorization header is reduced to its scheme: no token is kept. */
const KEPT_HEADERS = [
  "if-match",
  "if-none-match",
  "content-type",
  "x-ms-client-request-id",
  "user-agent",
] as const;

export function selectHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const selected: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (typeof value === "string") selected[name] = value;
  }
  const authorization = headers.authorization;
  if (typeof authorization === "string") selected.authorization = `${authorization.split(" ")[0] ?? ""} ***`;
  return selected;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  add(entry: RequestLogEntry): void {
    this.entries.push(entry);
  }

  all(): RequestLogEntry[] {
    return structuredClone(this.entries);
  }

  clear(): void {
    this.entries = [];
  }
}

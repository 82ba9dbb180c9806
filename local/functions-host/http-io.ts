// Between Node's HTTP server and the RPC shapes the worker exchanges with the host: an incoming
// request becomes `RpcHttpData` (method, full URL, headers, query, route params, body bytes), and an
// HTTP output (`{ http: { statusCode, headers, cookies, body } }`) becomes the response.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RpcHttpCookie, RpcHttpData, RpcTypedData } from "./core-types";

/** The Functions host refuses request bodies over 100 MB; so does this one. */
export const MAX_BODY_BYTES = 100 * 1024 * 1024;

export class BodyTooLarge extends Error {}

/**
 * The request body, refused (BodyTooLarge) as soon as it is known to exceed `maxBytes`: from its
 * Content-Length before anything is read, or while reading. A refused request is left paused; the
 * caller answers 413 and closes the connection (see `refuseTooLarge`).
 */
export function readBody(request: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    request.pause();
    return Promise.reject(new BodyTooLarge(`request body over ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.off("data", onData);
        request.pause();
        chunks.length = 0;
        reject(new BodyTooLarge(`request body over ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    request.on("data", onData);
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** Answers 413 to a request whose body was refused, and closes the connection soon after answering. */
export function refuseTooLarge(request: IncomingMessage, response: ServerResponse, text = ""): void {
  // Closing a socket that still has unread request data makes the kernel send a reset, which can
  // reach the client before it has read the 413 (it then sees ECONNRESET instead): what is still
  // coming is read and discarded for at most a second, then the connection closes.
  response.on("finish", () => {
    const stop = () => {
      clearTimeout(timer);
      request.destroy();
    };
    const timer = setTimeout(stop, 1000);
    request.once("end", stop);
    request.resume();
  });
  writeText(response, 413, text, { connection: "close" });
}

export function headerRecord(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

export function queryRecord(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(",");
  return query;
}

export function toRpcHttpRequest(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  params: Record<string, string>,
): RpcHttpData {
  return {
    method: request.method ?? "GET",
    url: url.toString(),
    headers: headerRecord(request),
    query: queryRecord(url),
    params,
    ...(body.length > 0 ? { body: { bytes: new Uint8Array(body) } } : {}),
  };
}

function bodyBytes(body: RpcTypedData | null | undefined): Buffer {
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (body.bytes !== null && body.bytes !== undefined) return Buffer.from(body.bytes);
  if (typeof body.string === "string") return Buffer.from(body.string);
  if (typeof body.json === "string") return Buffer.from(body.json);
  if (typeof body.int === "number" || typeof body.double === "number")
    return Buffer.from(String(body.int ?? body.double));
  return Buffer.alloc(0);
}

function cookieHeader(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ""}=${cookie.value ?? ""}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  const seconds = cookie.expires?.value?.seconds;
  if (seconds !== undefined && seconds !== null)
    parts.push(`Expires=${new Date(Number(seconds) * 1000).toUTCString()}`);
  if (typeof cookie.maxAge?.value === "number") parts.push(`Max-Age=${cookie.maxAge.value}`);
  if (cookie.secure?.value) parts.push("Secure");
  if (cookie.httpOnly?.value) parts.push("HttpOnly");
  if (cookie.sameSite === "lax") parts.push("SameSite=Lax");
  if (cookie.sameSite === "strict") parts.push("SameSite=Strict");
  if (cookie.sameSite === "explicitNone") parts.push("SameSite=None");
  return parts.join("; ");
}

export function writeRpcHttpResponse(response: ServerResponse, http: RpcHttpData): void {
  const status = Number(http.statusCode ?? 200) || 200;
  const body = bodyBytes(http.body);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(http.headers ?? {})) headers[name] = value;
  const cookies = (http.cookies ?? []).map(cookieHeader);
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  headers["content-length"] = String(body.length);
  response.writeHead(status, headers);
  response.end(body);
}

export function writeText(
  response: ServerResponse,
  status: number,
  text = "",
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(text);
  response.writeHead(status, {
    ...(text === "" ? {} : { "content-type": "text/plain; charset=utf-8" }),
    ...headers,
    "content-length": String(body.length),
  });
  response.end(body);
}

export function writeJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(JSON.stringify(value));
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    ...headers,
    "content-length": String(body.length),
  });
  response.end(body);
}

// The HTTPS front: reads each request, applies what ARM checks before any provider sees it
// (bearer token, api-version), fires armed faults, routes, logs, answers.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { BLOB_PATH_PREFIX } from "./blob";
import { CONTROL_PREFIX, control } from "./control";
import type { ArmRequest, EmulatorCore } from "./core";
import { parseJson } from "./json";
import { type ArmReply, armError, errorCodeOf } from "./replies";
import { selectHeaders } from "./request-log";
import { route } from "./routes";
import { TOPIC_PATH } from "./topic";
import type { FaultSpec, JsonValue, RequestLogEntry } from "./types";

/** ARM's own request size limit is 4 MB; a bigger body is a client bug worth surfacing. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(request: IncomingMessage, response: ServerResponse, reply: ArmReply): void {
  const headers: Record<string, string> = {
    "x-ms-request-id": randomUUID(),
    "x-ms-correlation-request-id": randomUUID(),
    ...reply.headers,
  };
  const clientRequestId = request.headers["x-ms-client-request-id"];
  if (typeof clientRequestId === "string") headers["x-ms-client-request-id"] = clientRequestId;
  if (reply.body === undefined) {
    response.writeHead(reply.status, headers).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  headers["Content-Type"] = "application/json; charset=utf-8";
  headers["Content-Length"] = String(Buffer.byteLength(text));
  response.writeHead(reply.status, headers).end(text);
}

/** The answer a request fault gives; undefined for a dropped connection, which gives none. */
function faultReply(fault: FaultSpec, path: string): ArmReply | undefined {
  switch (fault.kind) {
    case "throttle":
      return armError(
        429,
        fault.code ?? "RetryableErrorDueToAnotherOperation",
        fault.message ??
          "Operation could not be completed because another operation is in progress (injected fault).",
        { "Retry-After": String(fault.retryAfterSeconds ?? 0) },
      );
    case "serverError":
      return armError(
        fault.status ?? 500,
        fault.code ?? "InternalServerError",
        fault.message ?? "An error occurred (injected fault).",
      );
    case "conflict":
      return armError(409, fault.code, fault.message ?? `${fault.code} (injected fault).`);
    case "forbidden":
      return armError(
        403,
        "AuthorizationFailed",
        fault.message ??
          `The client does not have authorization to perform this action over scope '${path}' (injected fault).`,
      );
    case "preconditionFailed":
      return armError(
        412,
        "PreconditionFailed",
        fault.message ?? "The precondition failed (injected fault).",
      );
    case "serviceUnavailable":
      return armError(
        503,
        fault.code ?? "ServiceUnavailable",
        fault.message ?? "The service is temporarily unavailable (injected fault).",
        fault.retryAfterSeconds === undefined
          ? undefined
          : { "Retry-After": String(fault.retryAfterSeconds) },
      );
    case "dropConnection":
    case "lroFailed":
    case "responseLost":
    case "stuckUpdating":
      return undefined;
  }
}

function checkAuthorization(request: IncomingMessage): ArmReply | undefined {
  const authorization = request.headers.authorization;
  if (authorization === undefined) {
    return armError(
      401,
      "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is missing.",
    );
  }
  if (!/^Bearer\s+\S+/i.test(authorization)) {
    return armError(
      401,
      "InvalidAuthenticationToken",
      "The access token is invalid: expected 'Authorization: Bearer <token>'.",
    );
  }
  return undefined;
}

async function handle(core: EmulatorCore, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const started = Date.now();
  const method = (request.method ?? "GET").toUpperCase();
  const url = new URL(request.url ?? "/", "https://emulator.invalid");
  const path = url.pathname;
  // The stand-in Blob service reads its own (binary) body and is not ARM: no api-version, no faults,
  // not in the ARM request log.
  if (path.startsWith(BLOB_PATH_PREFIX)) {
    await core.blobs.serve(request, response);
    return;
  }
  let bodyText: string;
  try {
    bodyText = await readBody(request);
  } catch (error: unknown) {
    if (error instanceof BodyTooLarge) {
      send(request, response, armError(413, "RequestEntityTooLarge", "The request body exceeds 4 MB."));
    }
    return;
  }
  const body = bodyText.trim() === "" ? undefined : parseJson(bodyText);

  if (path.toLowerCase() === TOPIC_PATH && method === "POST") {
    send(request, response, core.topic.publish(request.headers, body));
    return;
  }
  if (path.toLowerCase().startsWith(CONTROL_PREFIX)) {
    send(request, response, control(method, path, body, core));
    return;
  }

  const entry: RequestLogEntry = {
    seq: core.log.nextSeq(),
    at: new Date(started).toISOString(),
    method,
    path,
    query: Object.fromEntries(url.searchParams),
    headers: selectHeaders(request.headers),
    status: 0,
    durationMs: 0,
  };
  if (bodyText.trim() !== "") entry.body = body ?? (bodyText as JsonValue);
  const finish = (reply: ArmReply | undefined, fault?: FaultSpec): void => {
    if (fault) entry.fault = fault.kind;
    entry.durationMs = Date.now() - started;
    if (reply === undefined) {
      core.log.add(entry);
      request.socket.destroy();
      return;
    }
    entry.status = reply.status;
    const code = errorCodeOf(reply);
    if (code !== undefined) entry.errorCode = code;
    core.log.add(entry);
    send(request, response, reply);
  };

  const unauthorized = checkAuthorization(request);
  if (unauthorized) return finish(unauthorized);
  const apiVersion = url.searchParams.get("api-version");
  if (!apiVersion) {
    return finish(
      armError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
      ),
    );
  }
  const fault = core.faults.take(method, path, "request");
  if (fault) return finish(faultReply(fault, path), fault);

  const now = Date.now();
  core.operations.settle(now);
  const armRequest: ArmRequest = {
    method,
    path,
    query: entry.query,
    headers: request.headers,
    body,
    bodyText,
    baseUrl: `https://${request.headers.host ?? "127.0.0.1"}`,
    apiVersion,
    now,
  };
  let reply: ArmReply;
  try {
    reply = route(armRequest, core);
  } catch (error: unknown) {
    // A bug in the emulator must not look like an Azure outage: the SDK retries 500 quietly, not 501.
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    reply = armError(501, "EmulatorInternalError", message);
  }
  // The write was applied; only its answer goes missing, as when a connection breaks after ARM took it.
  if (reply.fault?.kind === "responseLost") return finish(undefined, reply.fault);
  finish(reply, reply.fault);
}

export function createArmServer(core: EmulatorCore, tls: { key: string; cert: string }): Server {
  return createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    void handle(core, request, response);
  });
}

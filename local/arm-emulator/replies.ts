// ARM's answer shapes: a JSON body, a status, headers; errors as `{ error: { code, message } }`.
import type { FaultSpec, JsonValue } from "./types";

export interface ArmReply {
  status: number;
  body?: JsonValue;
  headers?: Record<string, string>;
  /** A write fault that fired inside the handler: logged, and `responseLost` drops the answer. */
  fault?: FaultSpec;
}

export function ok(body: JsonValue, status = 200, headers?: Record<string, string>): ArmReply {
  return headers ? { status, body, headers } : { status, body };
}

export function armError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): ArmReply {
  const body = { error: { code, message } };
  return headers ? { status, body, headers } : { status, body };
}

export function unsupported(method: string, path: string, status = 404): ArmReply {
  return armError(status, "EmulatorUnsupported", `${method} ${path} is not emulated`);
}

/** The ARM error code of a reply, for the request log. */
export function errorCodeOf(reply: ArmReply): string | undefined {
  const body = reply.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const error = body.error;
  if (typeof error !== "object" || error === null || Array.isArray(error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

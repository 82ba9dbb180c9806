// `/_emulator/...`: the test-facing control surface over HTTP, for drivers outside this process
// (the local runtime, curl). Unauthenticated and unlogged, so it never shows up in assertions
// about what the app sent to ARM.
import type { EmulatorCore } from "./core";
import { parseFaultSpec } from "./faults";
import { type ArmReply, armError, ok, unsupported } from "./replies";
import type { ArmResource, JsonValue } from "./types";

export const CONTROL_PREFIX = "/_emulator/";

function settingsBody(core: EmulatorCore): JsonValue {
  const { lroDelayMs, lroRetryAfterSeconds, pageSize } = core.settings;
  return { lroDelayMs, lroRetryAfterSeconds, pageSize: pageSize ?? null };
}

function nonNegativeInteger(value: JsonValue | undefined): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function updateSettings(core: EmulatorCore, body: JsonValue | undefined): ArmReply {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return armError(400, "InvalidRequestFormat", "expected a JSON object of settings");
  }
  const { lroDelayMs, lroRetryAfterSeconds, pageSize } = body;
  if (lroDelayMs !== undefined && !nonNegativeInteger(lroDelayMs)) {
    return armError(400, "InvalidRequestFormat", "lroDelayMs must be a non-negative integer");
  }
  if (lroRetryAfterSeconds !== undefined && !nonNegativeInteger(lroRetryAfterSeconds)) {
    return armError(400, "InvalidRequestFormat", "lroRetryAfterSeconds must be a non-negative integer");
  }
  if (pageSize !== undefined && pageSize !== null && !(nonNegativeInteger(pageSize) && pageSize > 0)) {
    return armError(400, "InvalidRequestFormat", "pageSize must be a positive integer or null");
  }
  if (lroDelayMs !== undefined) core.settings.lroDelayMs = lroDelayMs;
  if (lroRetryAfterSeconds !== undefined) core.settings.lroRetryAfterSeconds = lroRetryAfterSeconds;
  if (pageSize !== undefined) core.settings.pageSize = pageSize ?? undefined;
  return ok(settingsBody(core));
}

export function control(
  method: string,
  path: string,
  body: JsonValue | undefined,
  core: EmulatorCore,
): ArmReply {
  const action = `${method.toUpperCase()} ${path.slice(CONTROL_PREFIX.length).replace(/\/$/, "").toLowerCase()}`;
  switch (action) {
    case "GET requests":
      return ok({ requests: core.log.all() as unknown as JsonValue });
    case "POST reset-log":
      core.log.clear();
      return { status: 204 };
    case "PUT resources": {
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return armError(
          400,
          "InvalidRequestFormat",
          "expected one ARM resource as JSON, in ARM's shape, with its full id",
        );
      }
      try {
        if (typeof body.id !== "string")
          return armError(400, "InvalidRequestFormat", "the resource needs its full id");
        // Any emulated kind, found by its ID; the store names what is wrong with the body.
        return ok({ upserted: core.store.upsert(body as ArmResource), id: body.id });
      } catch (error) {
        return armError(400, "InvalidRequestFormat", error instanceof Error ? error.message : String(error));
      }
    }
    case "GET notifications":
      return ok({ events: core.topic.events() as unknown as JsonValue });
    case "GET state":
      return ok(core.state() as unknown as JsonValue);
    case "POST reset":
      core.reset();
      return { status: 204 };
    case "GET faults":
      return ok({ faults: core.faults.list() as unknown as JsonValue });
    case "DELETE faults":
      core.faults.clear();
      return { status: 204 };
    case "POST faults":
      try {
        return ok({ id: core.faults.add(parseFaultSpec(body)) }, 201);
      } catch (error: unknown) {
        return armError(400, "InvalidRequestFormat", error instanceof Error ? error.message : String(error));
      }
    case "POST operations/settle":
      core.operations.settleAll(Date.now());
      return { status: 204 };
    case "GET settings":
      return ok(settingsBody(core));
    case "POST settings":
      return updateSettings(core, body);
    default:
      return unsupported(method, path);
  }
}

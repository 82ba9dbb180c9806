// Faults that tests arm ahead of time: each matches method + path substring and fires N times.
// Write faults (`lroFailed`, `responseLost`, `stuckUpdating`) are consumed only by a write that is
// accepted (it passed If-Match and the busy check), so `times: 8` means eight accepted writes;
// every other kind answers the request itself before it reaches a route.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { GuardError } from "../../errors";
import { type FaultSpec, type FaultStatus, WRITE_FAULT_KINDS } from "./types";

interface ArmedFault {
  id: string;
  spec: FaultSpec;
  remaining: number;
  fired: number;
}

export type FaultPhase = "request" | "write";

const match = {
  method: z.string().min(1).optional(),
  pathContains: z.string().optional(),
  times: z.number().int().min(1).optional(),
};

/** What `POST /_emulator/faults` accepts: a `FaultSpec`. */
export const faultSpecSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("throttle"),
    ...match,
    retryAfterSeconds: z.number().int().min(0).optional(),
    code: z.string().optional(),
    message: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal("serverError"),
    ...match,
    status: z.number().int().min(500).max(599).optional(),
    code: z.string().optional(),
    message: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal("conflict"),
    ...match,
    code: z.string().min(1),
    message: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal("forbidden"), ...match, message: z.string().optional() }),
  z.strictObject({ kind: z.literal("preconditionFailed"), ...match, message: z.string().optional() }),
  z.strictObject({
    kind: z.literal("serviceUnavailable"),
    ...match,
    retryAfterSeconds: z.number().int().min(0).optional(),
    code: z.string().optional(),
    message: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal("dropConnection"), ...match }),
  z.strictObject({
    kind: z.literal("lroFailed"),
    ...match,
    code: z.string().optional(),
    message: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal("responseLost"), ...match }),
  z.strictObject({ kind: z.literal("stuckUpdating"), ...match, holdMs: z.number().int().min(0).optional() }),
]);

/** Narrows an HTTP body to a `FaultSpec`, dropping keys zod filled with undefined. */
export function parseFaultSpec(body: unknown): FaultSpec {
  const result = faultSpecSchema.safeParse(body);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new GuardError("BAD_ARGUMENT", `invalid fault: ${problems.join("; ")}`, { details: { problems } });
  }
  return JSON.parse(JSON.stringify(result.data)) as FaultSpec;
}

export class FaultBook {
  private faults: ArmedFault[] = [];

  add(spec: FaultSpec): string {
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1) {
      throw new GuardError("BAD_ARGUMENT", `fault times must be a positive integer, got ${times}`);
    }
    const id = randomUUID();
    this.faults.push({ id, spec: structuredClone(spec), remaining: times, fired: 0 });
    return id;
  }

  /** The first armed fault matching this request in this phase, counted as fired. */
  take(method: string, path: string, phase: FaultPhase): FaultSpec | undefined {
    const lowerPath = path.toLowerCase();
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        WRITE_FAULT_KINDS.has(f.spec.kind) === (phase === "write") &&
        (f.spec.method === undefined || f.spec.method.toUpperCase() === method.toUpperCase()) &&
        lowerPath.includes((f.spec.pathContains ?? "").toLowerCase()),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    fault.fired += 1;
    return structuredClone(fault.spec);
  }

  list(): FaultStatus[] {
    return this.faults.map((f) => ({
      id: f.id,
      spec: structuredClone(f.spec),
      remaining: f.remaining,
      fired: f.fired,
    }));
  }

  clear(): void {
    this.faults = [];
  }
}

// The one error type of the project. Every expected failure carries a stable `code` that callers,
// tests and logs can rely on; the message is for people and may change.
export type ErrorCode =
  | "CATALOG_INVALID"
  | "CATALOG_UNKNOWN_VERSION"
  | "CATALOG_PAGE_MISSING"
  | "CATALOG_PAGE_UNREADABLE"
  | "UNKNOWN_CLOUD"
  | "UNKNOWN_REGION"
  | "UNKNOWN_FEATURE"
  | "BAD_PARAMETER"
  | "BAD_ARGUMENT"
  | "PLAN_EXCEEDS_LIMITS"
  | "ARM_REQUEST_FAILED"
  | "ARM_BUSY_TIMEOUT"
  | "ARM_PRECONDITION_FAILED"
  | "ARM_WRITE_FAILED"
  | "CLUSTER_NOT_FOUND"
  | "POLICY_NOT_FOUND"
  | "CONFIG_INVALID"
  | "EVENT_INVALID"
  | "APPROVAL_INVALID"
  | "CATALOG_STORE_CONFLICT"
  | "CATALOG_STORE_CORRUPT"
  | "CATALOG_STORE_FAILED"
  | "EMULATOR_UNSUPPORTED";

export class GuardError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for machine-readable output (valid values, suggestions, key paths). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GuardError";
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isGuardError(value: unknown, code?: ErrorCode): value is GuardError {
  return value instanceof GuardError && (code === undefined || value.code === code);
}

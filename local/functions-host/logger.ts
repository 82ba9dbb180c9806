// One structured JSON line per event: invocations (function, invocation id, durable instance id,
// duration, result), what handlers log through `context.log/warn/error`, and the host's own notices.

export type HostLogEntry =
  | {
      kind: "invocation";
      time: string;
      functionName: string;
      invocationId: string;
      trigger: string;
      instanceId?: string;
      durationMs: number;
      result: "Succeeded" | "Failed";
      error?: string;
      isReplay?: boolean;
    }
  | {
      kind: "log";
      time: string;
      level: string;
      category: string;
      functionName?: string;
      invocationId?: string;
      instanceId?: string;
      message: string;
    }
  | {
      kind: "host";
      time: string;
      level: "information" | "warning" | "error";
      message: string;
      [detail: string]: unknown;
    };

/** Receives every entry; the default writes each as one JSON line to stdout. */
export type HostLogger = (entry: HostLogEntry) => void;

export const jsonLineLogger: HostLogger = (entry) => {
  process.stdout.write(`${JSON.stringify(entry)}\n`);
};

export function now(): string {
  return new Date().toISOString();
}

export function hostNotice(
  logger: HostLogger,
  level: "information" | "warning" | "error",
  message: string,
  details: Record<string, unknown> = {},
): void {
  logger({ kind: "host", time: now(), level, message, ...details });
}

/** The message of anything thrown, for log lines and HTTP answers. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(error);
}

// How the CLI talks to its user: two streams, and exit codes that scripts can rely on.
import { isGuardError } from "../errors";

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Terminal width for tables; 120 when not a terminal, so pasted output stays readable. */
  columns: number;
}

export const EXIT = { ok: 0, error: 1, badInput: 2 } as const;

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    columns: process.stdout.isTTY ? Math.max(80, process.stdout.columns ?? 120) : 120,
  };
}

const BAD_INPUT_CODES = new Set([
  "UNKNOWN_CLOUD",
  "UNKNOWN_REGION",
  "UNKNOWN_FEATURE",
  "BAD_PARAMETER",
  "BAD_ARGUMENT",
  "CATALOG_UNKNOWN_VERSION",
]);

/** Bad input exits 2 (DESIGN §4); anything else is an error (1) with its message, never a stack. */
export function reportError(io: Io, error: unknown, badInput: number = EXIT.badInput): number {
  if (isGuardError(error)) {
    io.err(`aks-egress: ${error.message}\n`);
    return BAD_INPUT_CODES.has(error.code) ? badInput : EXIT.error;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`aks-egress: ${message}\n`);
  return EXIT.error;
}

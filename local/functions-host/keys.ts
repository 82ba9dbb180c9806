// Host keys and authorization levels as the Functions host applies them: a request presents a key
// in the `x-functions-key` header or the `code` query parameter; `function` level accepts a function
// key or the master key, `admin` level only the master key, an extension webhook its system key or
// the master key. A missing or wrong key answers 401.
//
// Keys the caller does not give are generated once per state directory and kept in
// `STATE_DIR/host-keys.json` (0600), as the real host keeps its secrets; they are never logged.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import path from "node:path";
import { writePrivateFileSync } from "./private-files";

export const SYSTEM_KEY_NAMES = ["eventgrid_extension", "durabletask_extension"] as const;
export type SystemKeyName = (typeof SYSTEM_KEY_NAMES)[number];

export interface HostKeys {
  /** `_master`: admin endpoints and every level. */
  master: string;
  /** The host's `default` function key. */
  function: string;
  system: Record<SystemKeyName, string>;
}

export interface HostKeyOptions {
  master?: string | undefined;
  function?: string | undefined;
  system?: Partial<Record<SystemKeyName, string>> | undefined;
}

function newKey(): string {
  return randomBytes(30).toString("base64url");
}

export function makeHostKeys(given: HostKeyOptions = {}): HostKeys {
  return {
    master: given.master ?? newKey(),
    function: given.function ?? newKey(),
    system: {
      eventgrid_extension: given.system?.eventgrid_extension ?? newKey(),
      durabletask_extension: given.system?.durabletask_extension ?? newKey(),
    },
  };
}

export const KEYS_FILE = "host-keys.json";

function keyOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function storedKeys(file: string): HostKeyOptions {
  let stored: { master?: unknown; function?: unknown; system?: Record<string, unknown> };
  try {
    stored = JSON.parse(readFileSync(file, "utf8")) as typeof stored;
  } catch {
    return {};
  }
  const result: HostKeyOptions = {};
  const master = keyOrUndefined(stored.master);
  if (master !== undefined) result.master = master;
  const fn = keyOrUndefined(stored.function);
  if (fn !== undefined) result.function = fn;
  const system: Partial<Record<SystemKeyName, string>> = {};
  for (const name of SYSTEM_KEY_NAMES) {
    const key = keyOrUndefined(stored.system?.[name]);
    if (key !== undefined) system[name] = key;
  }
  result.system = system;
  return result;
}

/**
 * The host's keys: those given, then those kept in the state directory, then new ones. When any key
 * is not given, all of them are (re)written to `keysFile` (0600), where a user finds them.
 */
export function stateDirKeys(
  stateDir: string,
  given: HostKeyOptions = {},
): { keys: HostKeys; keysFile?: string } {
  const allGiven =
    given.master !== undefined &&
    given.function !== undefined &&
    SYSTEM_KEY_NAMES.every((name) => given.system?.[name] !== undefined);
  if (allGiven) return { keys: makeHostKeys(given) };
  const keysFile = path.join(stateDir, KEYS_FILE);
  const stored = storedKeys(keysFile);
  const keys = makeHostKeys({
    master: given.master ?? stored.master,
    function: given.function ?? stored.function,
    system: { ...stored.system, ...given.system },
  });
  writePrivateFileSync(keysFile, `${JSON.stringify(keys, null, 2)}\n`);
  return { keys, keysFile };
}

export type AuthLevel = "anonymous" | "function" | "admin" | { system: SystemKeyName };

export function presentedKey(headers: IncomingHttpHeaders, url: URL): string | undefined {
  const header = headers["x-functions-key"];
  if (typeof header === "string" && header !== "") return header;
  return url.searchParams.get("code") ?? undefined;
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function isAuthorized(level: AuthLevel, key: string | undefined, keys: HostKeys): boolean {
  if (level === "anonymous") return true;
  if (key === undefined) return false;
  if (same(key, keys.master)) return true;
  if (level === "admin") return false;
  if (level === "function") return same(key, keys.function);
  return same(key, keys.system[level.system]);
}

export function parseAuthLevel(value: unknown, functionName: string): "anonymous" | "function" | "admin" {
  const level = typeof value === "string" ? value.toLowerCase() : "anonymous";
  if (level === "anonymous" || level === "function" || level === "admin") return level;
  throw new Error(`Function "${functionName}" has an unknown authLevel "${String(value)}".`);
}

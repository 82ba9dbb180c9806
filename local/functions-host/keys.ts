// Host keys and authorization levels as the Functions host applies them: a request presents a key
// in the `x-functions-key` header or the `code` query parameter; `function` level accepts a function
// key or the master key, `admin` level only the master key, an extension webhook its system key or
// the master key. A missing or wrong key answers 401.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

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
  master?: string;
  function?: string;
  system?: Partial<Record<SystemKeyName, string>>;
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

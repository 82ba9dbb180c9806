// Canonical JSON and hashing. Plans are compared and approved by hash, so the text that is hashed
// must not depend on key order or on the host's locale.
import { createHash } from "node:crypto";

/** Plain JSON, as drift/ takes in and hands out. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Code-unit order: unlike localeCompare, the same on every machine and ICU build. */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON with object keys sorted at every level; arrays keep their order (callers sort what is a set). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => byText(a, b));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * sha256Hex of the pieces' concatenation, without making it. Exact while no piece ends inside a
 * surrogate pair (pieces of JSON text end between tokens).
 */
export function sha256HexOfPieces(pieces: readonly string[]): string {
  const hash = createHash("sha256");
  for (const piece of pieces) hash.update(piece, "utf8");
  return hash.digest("hex");
}

/** Texts hashed lately, as their pieces: a warm host hashes the same groups pass after pass. */
const hashed: { pieces: readonly string[]; hash: string }[] = [];
const HASHES_KEPT = 8;

function samePieces(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * sha256HexOfPieces, or the hash it gave lately for pieces equal one by one (so an equal text: the
 * hash is a function of the text). Pieces that share their long strings with the ones kept (a
 * group's source lists, see list-facts.ts) compare mostly by reference.
 */
export function sha256HexOfPiecesKept(pieces: readonly string[]): string {
  for (const entry of hashed) if (samePieces(entry.pieces, pieces)) return entry.hash;
  const hash = sha256HexOfPieces(pieces);
  hashed.unshift({ pieces: pieces.slice(), hash });
  if (hashed.length > HASHES_KEPT) hashed.pop();
  return hash;
}

// Small narrowing helpers for untyped ARM JSON.
import type { JsonObject, JsonValue } from "./types";

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

export function asString(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Deep copy of plain JSON: state handed out must never alias the store. */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/** Parses a JSON text; undefined when it is not JSON. */
export function parseJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

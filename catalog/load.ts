// The catalog versions shipped with the tool, each read and validated when first used.
import type { z } from "zod";
import { GuardError } from "../errors";
import { type Catalog, catalogSchema } from "./schema";

/**
 * Each version's file, oldest first. A version is immutable once released: add a new file instead.
 * The 2020 versions were written from their seed documents; the others are built from a version of
 * Microsoft's page by catalog/import plus catalog/judgements/<version>.json (see import/version.ts).
 *
 * A version's file is required the first time that version is asked for, not when the app loads:
 * a pass needs one version, and a cold start none (benchmark 3, bench/README.md). Each `require`
 * names its file literally, so that bundlers find it (scripts/package.mjs ships the files as they are).
 */
const SHIPPED: ReadonlyMap<string, () => unknown> = new Map([
  ["2020-01-22", () => require("./versions/2020-01-22.json")],
  ["2020-02-29", () => require("./versions/2020-02-29.json")],
  ["2023-06", () => require("./versions/2023-06.json")],
  ["2025-02", () => require("./versions/2025-02.json")],
  ["2026-06", () => require("./versions/2026-06.json")],
]);

/** The newest version is the default: the newest published edition of Microsoft's page. */
export const DEFAULT_CATALOG_VERSION = "2026-06";

/** `entries[3].destination.host` from zod's path array. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, index) => (typeof key === "number" ? `[${key}]` : `${index === 0 ? "" : "."}${String(key)}`))
    .join("");
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${formatKeyPath(issue.path) || "(root)"}: ${issue.message}`);
}

/** Parses one catalog file's content; bad data fails naming the file and each bad key path. */
export function parseCatalog(file: string, data: unknown): Catalog {
  const result = catalogSchema.safeParse(data);
  if (!result.success) {
    const problems = describeIssues(result.error.issues);
    throw new GuardError("CATALOG_INVALID", `invalid catalog ${file}:\n  ${problems.join("\n  ")}`, {
      details: { file, problems },
    });
  }
  const expected = file.replace(/^.*\//, "").replace(/\.json$/, "");
  if (result.data.version !== expected) {
    throw new GuardError(
      "CATALOG_INVALID",
      `invalid catalog ${file}:\n  version: "${result.data.version}" does not match the file name "${expected}"`,
      { details: { file, problems: [`version: does not match the file name`] } },
    );
  }
  return result.data;
}

const cache = new Map<string, Catalog>();

/** All shipped versions, oldest first (each one validated). */
export function catalogs(): ReadonlyMap<string, Catalog> {
  return new Map(catalogVersions().map((v) => [v, loadCatalog(v)]));
}

/** The shipped versions' names, oldest first; reads no catalog. */
export function catalogVersions(): string[] {
  return [...SHIPPED.keys()];
}

export function loadCatalog(version: string = DEFAULT_CATALOG_VERSION): Catalog {
  const read = SHIPPED.get(version);
  if (read === undefined) {
    throw new GuardError(
      "CATALOG_UNKNOWN_VERSION",
      `unknown catalog version "${version}". Valid versions: ${catalogVersions().join(", ")}.`,
      { details: { value: version, valid: catalogVersions() } },
    );
  }
  let catalog = cache.get(version);
  if (catalog === undefined) {
    catalog = parseCatalog(`catalog/versions/${version}.json`, read());
    cache.set(version, catalog);
  }
  return catalog;
}

// The catalog versions shipped with the tool, validated against the schema when first used.
import type { z } from "zod";
import { GuardError } from "../errors";
import { type Catalog, catalogSchema } from "./schema";
import v20200122 from "./versions/2020-01-22.json";
import v20200229 from "./versions/2020-02-29.json";
import v202306 from "./versions/2023-06.json";
import v202502 from "./versions/2025-02.json";
import v202606 from "./versions/2026-06.json";

/**
 * Each version's file, oldest first. A version is immutable once released: add a new file instead.
 * The 2020 versions were written from their seed documents; the others are built from a version of
 * Microsoft's page by catalog/import plus catalog/judgements/<version>.json (see import/version.ts).
 */
const SHIPPED: readonly { file: string; data: unknown }[] = [
  { file: "catalog/versions/2020-01-22.json", data: v20200122 },
  { file: "catalog/versions/2020-02-29.json", data: v20200229 },
  { file: "catalog/versions/2023-06.json", data: v202306 },
  { file: "catalog/versions/2025-02.json", data: v202502 },
  { file: "catalog/versions/2026-06.json", data: v202606 },
];

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

let cache: ReadonlyMap<string, Catalog> | undefined;

/** All shipped versions, oldest first. */
export function catalogs(): ReadonlyMap<string, Catalog> {
  cache ??= new Map(
    SHIPPED.map(({ file, data }) => [file, parseCatalog(file, data)] as const).map(([, c]) => [c.version, c]),
  );
  return cache;
}

export function catalogVersions(): string[] {
  return [...catalogs().keys()];
}

export function loadCatalog(version: string = DEFAULT_CATALOG_VERSION): Catalog {
  const catalog = catalogs().get(version);
  if (catalog === undefined) {
    throw new GuardError(
      "CATALOG_UNKNOWN_VERSION",
      `unknown catalog version "${version}". Valid versions: ${catalogVersions().join(", ")}.`,
      { details: { value: version, valid: catalogVersions() } },
    );
  }
  return catalog;
}

// A shipped catalog version is built, not written: the importer's output for one version of
// Microsoft's page plus that version's own reviewed judgement calls (catalog/judgements/<version>.json),
// each with a note. test/catalog/versions.test.ts rebuilds every shipped version from its page and
// requires identical data. The same judgements read a page no version was built from (the newest
// version's, for `catalog diff V PAGE.md`); the ones that no longer match are reported, never forced.
import { createHash } from "node:crypto";
import { z } from "zod";
import { destinationKey } from "../diff";
import { REGIONS } from "../regions";
import { type Catalog, type CatalogEntry, CLOUDS, catalogSchema, entrySchema, FEATURES } from "../schema";
import { entryId, type ImportOptions, importPage, type ReviewItem } from "./index";
import { readPage } from "./page";

// The schema is made when judgement files are first parsed, not when the app loads (benchmark 3): the
// app loads this module for the catalog watch and adoption, which read pages only in their activities.
function makeVersionJudgementsSchema() {
  const note = z.string().min(1);
  const text = z.string().min(1);

  /** Which entries a judgement is about. Every field given must hold. */
  const matchSchema = z
    .object({
      feature: z.enum(FEATURES).optional(),
      cloud: z.enum(CLOUDS).optional(),
      /** The destination as the catalog holds it: a host (`{region}` for placeholders), a service tag, `<API server>`, `<apiServerIp>`. */
      destination: text.optional(),
      /** Words the entry's use cell must contain: the page's own words the judgement rests on. */
      purposeIncludes: text.optional(),
    })
    .strict()
    .refine((m) => Object.keys(m).length > 0, { message: "a match needs at least one field" });

  return z
    .object({
      version: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/),
      about: text,
      page: z
        .object({
          /** The page's markdown source, relative to ../shared (as CI lays it out). */
          path: text,
          repository: text,
          file: text,
          commit: z.string().regex(/^[0-9a-f]{40}$/),
          /** The commit's date: the date of the catalog version. */
          date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
          /** SHA-256 of the page source: the version is built from exactly this text. */
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
        })
        .strict(),
      /** Remarks about the page as a whole; each only while the page says what it rests on. */
      remarks: z.array(z.object({ remark: text, pageSays: text }).strict()),
      /** Changes to entries the importer made: conditions in use text, clouds, alternatives. */
      entries: z.array(
        z
          .object({
            match: matchSchema,
            /** Words the page must contain (outside the row) for the judgement to hold. */
            pageSays: text.optional(),
            /**
             * Only for these clouds: an entry that has others too is split in two, and only the part
             * for these clouds changes.
             */
            scope: z.array(z.enum(CLOUDS)).min(1).optional(),
            set: z
              .object({
                /** Narrow the entry to these of its clouds. */
                clouds: z.array(z.enum(CLOUDS)).min(1).optional(),
                notForPrivateClusters: z.literal(true).optional(),
                /** Added to the entry's condition (shown with the rule). */
                condition: text.optional(),
                /** Kept, never rendered: says which alternative is rendered and why. */
                alternative: text.optional(),
              })
              .strict()
              .refine((s) => Object.keys(s).length > 0, { message: "set at least one field" }),
            note,
          })
          .strict(),
      ),
      /** Hosts that name one region (`arcmktplaceprod.westeurope.data.azurecr.io`): rendered there only. */
      regionalHosts: z.array(
        z.object({ pattern: text.includes("{region}"), purposeIncludes: text, note }).strict(),
      ),
      /** Sections without a table that send their feature to another feature's rules. */
      pointers: z.array(
        z
          .object({
            /** Words of the section's heading. */
            heading: text.refine((h) => h === h.toLowerCase(), { message: "lower case" }),
            /** Words the section's text must contain. */
            pageSays: text,
            feature: z.enum(FEATURES),
            uses: z.enum(FEATURES),
            condition: text,
            note,
          })
          .strict(),
      ),
    })
    .strict();
}

let schema: ReturnType<typeof makeVersionJudgementsSchema> | undefined;

export function versionJudgementsSchema(): ReturnType<typeof makeVersionJudgementsSchema> {
  schema ??= makeVersionJudgementsSchema();
  return schema;
}

export type VersionJudgements = z.infer<ReturnType<typeof makeVersionJudgementsSchema>>;

/** The judgement files of the shipped versions built from pages, oldest first. */
const SHIPPED: readonly { file: string; data: () => unknown }[] = [
  { file: "catalog/judgements/2023-06.json", data: () => require("../judgements/2023-06.json") },
  { file: "catalog/judgements/2025-02.json", data: () => require("../judgements/2025-02.json") },
  { file: "catalog/judgements/2026-06.json", data: () => require("../judgements/2026-06.json") },
];

export function parseVersionJudgements(file: string, data: unknown): VersionJudgements {
  const result = versionJudgementsSchema().safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map(
      (i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`,
    );
    throw new Error(`invalid ${file}:\n  ${problems.join("\n  ")}`);
  }
  const expected = file.replace(/^.*\//, "").replace(/\.json$/, "");
  if (result.data.version !== expected)
    throw new Error(`invalid ${file}:\n  version "${result.data.version}" does not match the file name`);
  return result.data;
}

let cache: VersionJudgements[] | undefined;

/** The judgement files of every version built from a page, oldest first. */
export function shippedVersionJudgements(): readonly VersionJudgements[] {
  cache ??= SHIPPED.map(({ file, data }) => parseVersionJudgements(file, data()));
  return cache;
}

export function pageHash(source: string): string {
  return createHash("sha256").update(source, "utf8").digest("hex");
}

/** One judgement as applied: what it says (its note) and the entries it changed or made. */
export interface AppliedJudgement {
  kind: "remark" | "entry" | "regional" | "pointer";
  note: string;
  entries: string[];
}

export interface BuiltVersion {
  catalog: Catalog;
  review: ReviewItem[];
  /** The version whose judgements were used. */
  judgements: string;
  applied: AppliedJudgement[];
  /** Judgements that matched nothing on this page: what they say, and why they do not apply. */
  unmatched: { kind: AppliedJudgement["kind"]; note: string; reason: string }[];
}

export type BuildOutcome = { ok: true; built: BuiltVersion } | { ok: false; problem: string };

const flat = (s: string) => s.toLowerCase().replace(/\s+/g, " ");
const says = (haystack: string, words: string) => flat(haystack).includes(flat(words));

function joinNote(entry: CatalogEntry, added: string): void {
  entry.note =
    entry.note === undefined ? added : entry.note.includes(added) ? entry.note : `${entry.note} ${added}`;
}

function addCondition(entry: CatalogEntry, condition: string): void {
  entry.condition =
    entry.condition === undefined
      ? condition
      : entry.condition.includes(condition)
        ? entry.condition
        : `${entry.condition}; ${condition}`;
}

function uniqueId(base: string, taken: ReadonlySet<string>): string {
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

/** Applies one version's judgements to an imported page. Pure; nothing is dropped. */
export function applyVersionJudgements(
  source: string,
  imported: { catalog: Catalog; review: ReviewItem[] },
  judgements: VersionJudgements,
): BuiltVersion {
  const entries = imported.catalog.entries.map((e) => structuredClone(e));
  const original = new Map(entries.map((e) => [e, e.clouds.join()] as const));
  const applied: (Omit<AppliedJudgement, "entries"> & { entries: CatalogEntry[] })[] = [];
  const unmatched: BuiltVersion["unmatched"] = [];

  const remarks: string[] = [];
  for (const r of judgements.remarks) {
    if (says(source, r.pageSays)) {
      remarks.push(r.remark);
      applied.push({ kind: "remark", note: r.remark, entries: [] });
    } else
      unmatched.push({ kind: "remark", note: r.remark, reason: `the page no longer says "${r.pageSays}"` });
  }

  for (const j of judgements.entries) {
    if (j.pageSays !== undefined && !says(source, j.pageSays)) {
      unmatched.push({ kind: "entry", note: j.note, reason: `the page no longer says "${j.pageSays}"` });
      continue;
    }
    const m = j.match;
    const hits = entries.filter(
      (e) =>
        (m.feature === undefined || e.feature === m.feature) &&
        (m.cloud === undefined || e.clouds.includes(m.cloud)) &&
        (m.destination === undefined || destinationKey(e) === m.destination) &&
        (m.purposeIncludes === undefined || says(e.purpose, m.purposeIncludes)),
    );
    const narrowed = j.set.clouds;
    const scope = j.scope;
    const usable = hits.filter(
      (e) =>
        (narrowed === undefined || e.clouds.some((c) => narrowed.includes(c))) &&
        (scope === undefined || e.clouds.some((c) => scope.includes(c))),
    );
    if (usable.length === 0) {
      unmatched.push({ kind: "entry", note: j.note, reason: `no entry matches ${JSON.stringify(m)}` });
      continue;
    }
    for (const entry of usable) {
      if (scope !== undefined && entry.clouds.some((c) => !scope.includes(c))) {
        const rest: CatalogEntry = {
          ...structuredClone(entry),
          clouds: entry.clouds.filter((c) => !scope.includes(c)),
        };
        joinNote(rest, j.note);
        entries.splice(entries.indexOf(entry) + 1, 0, rest);
        entry.clouds = entry.clouds.filter((c) => scope.includes(c));
      }
      if (narrowed !== undefined)
        entry.clouds = CLOUDS.filter((c) => entry.clouds.includes(c) && narrowed.includes(c));
      if (j.set.notForPrivateClusters === true) entry.notForPrivateClusters = true;
      if (j.set.condition !== undefined) addCondition(entry, j.set.condition);
      if (j.set.alternative !== undefined) entry.alternative = j.set.alternative;
      joinNote(entry, j.note);
    }
    applied.push({ kind: "entry", note: j.note, entries: usable });
  }

  for (const j of judgements.regionalHosts) {
    const [before = "", after = ""] = j.pattern.split("{region}");
    const hits: CatalogEntry[] = [];
    for (const entry of entries) {
      const d = entry.destination;
      if (d.kind !== "fqdn" || !d.host.startsWith(before) || !d.host.endsWith(after)) continue;
      const region = d.host.slice(before.length, d.host.length - after.length);
      if (!/^[a-z0-9]+$/.test(region)) continue;
      if (!entry.clouds.every((c) => REGIONS[c].includes(region))) continue;
      if (!says(entry.purpose, j.purposeIncludes)) continue;
      entry.regions = [region];
      joinNote(entry, j.note);
      hits.push(entry);
    }
    if (hits.length === 0)
      unmatched.push({ kind: "regional", note: j.note, reason: `no host of the form ${j.pattern}` });
    else applied.push({ kind: "regional", note: j.note, entries: hits });
  }

  const page = readPage(source);
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const made: CatalogEntry[] = [];
  for (const j of judgements.pointers) {
    const at = page.headings.findIndex((h) => says(h.text, j.heading));
    const heading = page.headings[at];
    if (heading === undefined) {
      unmatched.push({ kind: "pointer", note: j.note, reason: `no heading says "${j.heading}"` });
      continue;
    }
    const next = page.headings.slice(at + 1).find((h) => h.level <= heading.level);
    const body = lines.slice(heading.line - 1, next === undefined ? undefined : next.line - 1).join("\n");
    if (!says(body, j.pageSays)) {
      unmatched.push({ kind: "pointer", note: j.note, reason: `its section no longer says "${j.pageSays}"` });
      continue;
    }
    const targets = entries.filter((e) => e.feature === j.uses);
    if (targets.length === 0) {
      unmatched.push({ kind: "pointer", note: j.note, reason: `the page lists nothing for ${j.uses}` });
      continue;
    }
    const copies: CatalogEntry[] = [];
    for (const target of targets) {
      const copy: CatalogEntry = {
        ...structuredClone(target),
        feature: j.feature,
        source: { section: heading.anchor, table: heading.text, line: heading.line },
      };
      addCondition(copy, j.condition);
      joinNote(copy, j.note);
      made.push(copy);
      copies.push(copy);
    }
    applied.push({ kind: "pointer", note: j.note, entries: copies });
  }

  // Ids follow what an entry is: an entry whose clouds a judgement narrowed, and an entry a pointer
  // made, gets the id the importer would give it; the others keep theirs.
  const all = [...entries, ...made];
  const renew = (e: CatalogEntry) => original.get(e) !== e.clouds.join();
  const taken = new Set(all.filter((e) => !renew(e)).map((e) => e.id));
  for (const entry of all.filter(renew)) {
    entry.id = uniqueId(entryId(entry.feature, entry.clouds, entry.destination, entry.ports), taken);
    taken.add(entry.id);
  }

  const catalog = catalogSchema.parse({
    ...imported.catalog,
    remarks: [...imported.catalog.remarks, ...remarks],
    entries: all.map((e) => entrySchema.parse(e)),
  });
  return {
    catalog,
    review: imported.review,
    judgements: judgements.version,
    applied: applied.map((a) => ({ ...a, entries: a.entries.map((e) => e.id) })),
    unmatched,
  };
}

/** The page's reference as a shipped version records it. */
function referenceOf(j: VersionJudgements): string {
  return `${j.page.repository} ${j.page.file}, commit ${j.page.commit}`;
}

/**
 * Builds the shipped version `version` from its page source. Fails when the source is not the page
 * the version was built from (by SHA-256), or the page has rows to review.
 */
export function buildShippedVersion(version: string, source: string): BuildOutcome {
  const judgements = shippedVersionJudgements().find((j) => j.version === version);
  if (judgements === undefined)
    return {
      ok: false,
      problem: `no catalog version "${version}" is built from a page (those are: ${shippedVersionJudgements()
        .map((j) => j.version)
        .join(", ")})`,
    };
  const hash = pageHash(source);
  if (hash !== judgements.page.sha256)
    return {
      ok: false,
      problem: `the page is not ${judgements.page.path} (SHA-256 ${hash}, expected ${judgements.page.sha256})`,
    };
  const outcome = importPage(source, {
    path: judgements.page.path,
    version: judgements.version,
    date: judgements.page.date,
    reference: referenceOf(judgements),
  });
  if (!outcome.ok) return outcome;
  if (outcome.imported.review.length > 0)
    return {
      ok: false,
      problem: `${judgements.page.path} has ${outcome.imported.review.length} row(s) to review; a shipped version has none`,
    };
  return { ok: true, built: applyVersionJudgements(source, outcome.imported, judgements) };
}

/**
 * Reads any page as a catalog version: with the judgements of the shipped version built from this
 * very page (same SHA-256), otherwise with the newest shipped version's.
 */
export function readPageAsVersion(source: string, options: ImportOptions): BuildOutcome {
  const all = shippedVersionJudgements();
  const hash = pageHash(source);
  const own = all.find((j) => j.page.sha256 === hash);
  if (own !== undefined) return buildShippedVersion(own.version, source);
  const newest = all.at(-1);
  const outcome = importPage(source, options);
  if (!outcome.ok) return outcome;
  if (newest === undefined)
    return {
      ok: true,
      built: { ...outcome.imported, judgements: "(none)", applied: [], unmatched: [] },
    };
  return { ok: true, built: applyVersionJudgements(source, outcome.imported, newest) };
}

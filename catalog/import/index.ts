// `catalog import`: one version of Microsoft's AKS outbound-rules page (markdown source) → a catalog
// version in the schema of catalog/versions/*.json, plus what it could not classify.
// Every table row becomes entries or a review item, never neither: nothing dropped, nothing invented.
// Clouds, features, columns and destinations come from the page's headings, headers and cells; what
// the page cannot say is in judgements.json. Pure: the caller reads the file.
import {
  type Catalog,
  type CatalogEntry,
  CLOUDS,
  type Cloud,
  catalogSchema,
  type Destination,
  entrySchema,
  type Feature,
  type Parameter,
  type PortSpec,
} from "../schema";
import { type CellItem, type DestinationCell, readDestinationCell, readPorts } from "./cells";
import { type Judgements, shippedJudgements } from "./judgements";
import { type Cell, type Heading, type Page, readPage, type Table, type TableRow } from "./page";

export { type Judgements, judgementsSchema, parseJudgements, shippedJudgements } from "./judgements";
export { type Page, readPage } from "./page";

export interface ReviewItem {
  /** 1-based line of the page source. */
  line: number;
  /** That line as written. */
  text: string;
  reason: string;
}

export interface ImportOptions {
  /** Where the page came from, recorded as the version's document path. */
  path: string;
  /** The catalog version id (YYYY-MM or YYYY-MM-DD); defaults to the year and month of `date`. */
  version?: string;
  /** The date the page was taken (YYYY-MM-DD); defaults to the page's `ms.date`. */
  date?: string;
  /** Where exactly the page came from (repository, commit); the page's `ms.date` is added to it. */
  reference?: string;
  judgements?: Judgements;
}

export interface ImportedVersion {
  /** The catalog version: valid against the catalog schema. */
  catalog: Catalog;
  /** The page line of the table row each entry comes from, by entry id. */
  lines: Record<string, number>;
  review: ReviewItem[];
}

export type ImportOutcome = { ok: true; imported: ImportedVersion } | { ok: false; problem: string };

const VERSION = /^\d{4}-\d{2}(-\d{2})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const normalised = (text: string) => text.toLowerCase().replace(/\s+/g, " ").trim();

// ---------------------------------------------------------------------------------------------------
// Tables: columns, kind, feature, clouds, required — from headers and headings.

interface Columns {
  destination: number;
  port: number;
  protocol?: number;
  use?: number;
}

const COLUMN_ROLES: readonly { role: keyof Columns; pattern: RegExp }[] = [
  // Order matters: "Protocol:Port" is a port column; "Destination Endpoint" a destination.
  { role: "port", pattern: /\bports?\b/i },
  { role: "protocol", pattern: /\bprotocols?\b/i },
  { role: "destination", pattern: /\b(fqdns?|endpoints?|destinations?|address(es)?|hosts?)\b/i },
  { role: "use", pattern: /\b(use|purpose|description|notes?|reason)\b/i },
];

function columnsOf(headers: readonly Cell[]): Columns | string {
  const found: Partial<Columns> = {};
  for (const [index, header] of headers.entries()) {
    const role = COLUMN_ROLES.find((r) => r.pattern.test(header.plain))?.role;
    if (role === undefined) return `the column "${header.plain}" is not one the importer reads`;
    if (found[role] !== undefined) return `two columns read as ${role} ("${header.plain}")`;
    found[role] = index;
  }
  if (found.destination === undefined || found.port === undefined)
    return `the table has no ${found.destination === undefined ? "destination" : "port"} column (headers: ${headers.map((h) => h.plain).join(" | ")})`;
  return found as Columns;
}

type TableKind = "network" | "application" | "unknown";

function kindOf(columns: Columns, nearestFirst: readonly Heading[]): TableKind {
  if (columns.protocol !== undefined) return "network";
  for (const heading of nearestFirst) {
    const text = normalised(heading.text);
    const network = text.includes("network rule");
    const application = text.includes("application rule") || text.includes("fqdn");
    if (network !== application) return network ? "network" : "application";
  }
  return "unknown";
}

function cloudsNamed(text: string, judgements: Judgements): Cloud[] {
  const lower = normalised(text);
  return CLOUDS.filter((cloud) =>
    judgements.clouds.some((c) => c.cloud === cloud && c.names.some((n) => lower.includes(n))),
  );
}

interface TablePlan {
  table: Table;
  /** Headings below the page title, nearest first. */
  nearestFirst: Heading[];
  columns: Columns | string;
  kind: TableKind;
  feature?: { feature: Feature; note?: string; group: Heading };
  /** Clouds named by the table's headings; undefined when none are. */
  namedClouds?: Cloud[];
  required: boolean;
}

function planTable(table: Table, judgements: Judgements): TablePlan {
  const nearestFirst = table.headings.filter((h) => h.level > 1).reverse();
  const columns = columnsOf(table.headers);
  const kind = typeof columns === "string" ? "unknown" : kindOf(columns, nearestFirst);
  const plan: TablePlan = {
    table,
    nearestFirst,
    columns,
    kind,
    required: judgements.requiredWhenUnstated.required,
  };

  const ruleFor = (heading: Heading) =>
    judgements.sections.find((rule) => rule.phrases.some((p) => normalised(heading.text).includes(p)));
  const at = nearestFirst.findIndex((h) => ruleFor(h) !== undefined);
  const rule = at >= 0 ? ruleFor(nearestFirst[at]!) : undefined;
  if (rule !== undefined) {
    // The section a feature's tables share is its outermost heading of that feature.
    let group = nearestFirst[at]!;
    for (const heading of nearestFirst.slice(at + 1))
      if (ruleFor(heading)?.feature === rule.feature) group = heading;
    plan.feature = {
      feature: rule.feature,
      group,
      ...(rule.noteOnEntries === true ? { note: rule.note } : {}),
    };
  }

  for (const heading of nearestFirst) {
    const named = cloudsNamed(heading.text, judgements);
    if (named.length > 0) {
      plan.namedClouds = named;
      break;
    }
  }

  for (const heading of nearestFirst) {
    const text = normalised(heading.text);
    if (/\b(optional|recommended|not required|aren't required|isn't required)\b/.test(text)) {
      plan.required = false;
      break;
    }
    if (/\brequired\b/.test(text)) {
      plan.required = true;
      break;
    }
  }
  return plan;
}

/** Clouds of tables whose headings name none (see judgements.unlabelledBesideLabelled). */
function sectionClouds(plan: TablePlan, plans: readonly TablePlan[], judgements: Judgements) {
  if (plan.namedClouds !== undefined) return { clouds: plan.namedClouds, notes: [] as string[] };
  const labelledSibling = plans.some(
    (other) =>
      other !== plan &&
      other.namedClouds !== undefined &&
      other.kind === plan.kind &&
      other.feature?.group === plan.feature?.group,
  );
  return labelledSibling
    ? {
        clouds: judgements.unlabelledBesideLabelled.clouds,
        notes: [judgements.unlabelledBesideLabelled.note],
      }
    : { clouds: [...CLOUDS], notes: [] as string[] };
}

// ---------------------------------------------------------------------------------------------------
// Destinations: what each written destination is, by its form, its label and the judgements.

type Resolved = {
  key: string;
  destination: Destination;
  feature?: Feature;
  onlyWithParameter?: Parameter;
  notes: string[];
};
type Failure = { problem: string };
const failed = <T extends object>(value: T | Failure): value is Failure => "problem" in value;

const destinationSchema = entrySchema.shape.destination;

function isRegionPlaceholder(name: string, judgements: Judgements): boolean {
  return judgements.placeholders.some((p) => p.written.includes(name.toLowerCase().trim()));
}

/** The key alternatives are matched by: lower case, `<placeholder>` → `{region}`. */
function alternativeKey(written: string, judgements: Judgements): string {
  return written
    .replace(/<([^<>]+)>/g, (m, name: string) => (isRegionPlaceholder(name, judgements) ? "{region}" : m))
    .toLowerCase();
}

function resolveHost(written: string, judgements: Judgements): Resolved | Failure {
  const notes: string[] = [];
  let host = written;
  const emptyHtml = /<([a-z]+)(?:\s[^>]*)?><\/\1>/gi;
  if (emptyHtml.test(host)) {
    const note = judgements.normalisations.emptyHtmlInHost;
    if (note === undefined)
      return { problem: `"${written}" holds HTML, and no judgement says how to read it` };
    host = host.replace(emptyHtml, "");
    notes.push(note);
  }
  const unknown: string[] = [];
  host = host.replace(/<([^<>]+)>/g, (m, name: string) => {
    if (isRegionPlaceholder(name, judgements)) return "{region}";
    unknown.push(m);
    return m;
  });
  if (unknown.length > 0)
    return { problem: `"${written}" has the placeholder ${unknown.join(", ")}, which no judgement explains` };
  if (host.startsWith(".")) {
    const note = judgements.normalisations.leadingDot;
    if (note === undefined)
      return { problem: `"${written}" starts with a dot, and no judgement says how to read it` };
    host = `*${host}`;
    notes.push(note);
  }
  const checked = destinationSchema.safeParse({ kind: "fqdn", host });
  if (!checked.success)
    return {
      problem: `"${written}" is not a host name a firewall rule takes: ${checked.error.issues[0]?.message}`,
    };
  return { key: host.toLowerCase(), destination: { kind: "fqdn", host }, notes };
}

function resolveServiceTag(written: string, judgements: Judgements): Resolved | Failure {
  const notes: string[] = [];
  const [name = "", ...rest] = written.split(".");
  const parts = rest.map((part) => {
    const bracketed = /^<([^<>]+)>$/.exec(part);
    if (bracketed && isRegionPlaceholder(bracketed[1]!, judgements)) return "{region}";
    if (isRegionPlaceholder(part, judgements)) {
      const note = judgements.normalisations.bareRegionInServiceTag;
      if (note === undefined) return part;
      if (!notes.includes(note)) notes.push(note);
      return "{region}";
    }
    return part;
  });
  const tag = [name, ...parts].join(".");
  const checked = destinationSchema.safeParse({ kind: "serviceTag", tag });
  if (!checked.success) return { problem: `"${written}" is not a service tag the catalog can hold` };
  return { key: tag.toLowerCase(), destination: { kind: "serviceTag", tag }, notes };
}

function isAny(item: CellItem, judgements: Judgements): boolean {
  return item.written === judgements.anyDestination.written;
}

function resolveItem(item: CellItem, judgements: Judgements): Resolved | Failure {
  if (isAny(item, judgements))
    return {
      problem: `"${item.written}" (any destination) is the only destination named; no rule is opened to any destination`,
    };
  if (item.label !== undefined && /service\s*tag/i.test(item.label))
    return resolveServiceTag(item.written, judgements);
  if (item.written.includes(".") || item.written.includes("<")) return resolveHost(item.written, judgements);
  const endpoint = judgements.endpoints.find((e) => e.written.toLowerCase() === item.written.toLowerCase());
  if (endpoint === undefined)
    return { problem: `"${item.written}" is not a host name, and no judgement says what it stands for` };
  const resolved: Resolved = {
    key: item.written.toLowerCase(),
    destination: endpoint.destination,
    notes: [endpoint.note],
  };
  if (endpoint.feature !== undefined) resolved.feature = endpoint.feature;
  if (endpoint.onlyWithParameter !== undefined) resolved.onlyWithParameter = endpoint.onlyWithParameter;
  return resolved;
}

/** The key an item is matched by in `judgements.alternatives` (and the notes of reading it). */
function itemKey(item: CellItem, judgements: Judgements): { key: string; notes: string[] } {
  if (item.label !== undefined && /service\s*tag/i.test(item.label)) {
    const tag = resolveServiceTag(item.written, judgements);
    if (!failed(tag)) return { key: tag.key, notes: tag.notes };
  }
  return { key: alternativeKey(item.written, judgements), notes: [] };
}

// ---------------------------------------------------------------------------------------------------
// Rows → requirements: one per destination and cloud set.

interface Requirement {
  resolved: Resolved;
  clouds: Cloud[];
  conditions: string[];
  notes: string[];
}

const CONDITION = /^(only )?(if|when|unless)\b/i;

function conditionsOf(items: readonly CellItem[]): string[] {
  return items.flatMap((i) => i.remarks.filter((r) => CONDITION.test(r)));
}

function markersOf(item: CellItem, judgements: Judgements): Cloud[] {
  return [
    ...new Set(item.remarks.filter((r) => !CONDITION.test(r)).flatMap((r) => cloudsNamed(r, judgements))),
  ];
}

function requirementsOf(
  cell: DestinationCell,
  clouds: readonly Cloud[],
  use: string,
  judgements: Judgements,
): Requirement[] | Failure {
  const { items, joins } = cell;
  const marked = items.map((item) => markersOf(item, judgements));
  const resolveAll = (list: readonly CellItem[]) => {
    const out: Resolved[] = [];
    for (const item of list) {
      const r = resolveItem(item, judgements);
      if (failed(r)) return r;
      out.push(r);
    }
    return out;
  };

  // Per-cloud variants: "host <br/> host (Azure Government) <br/> host (Azure operated by 21Vianet)".
  if (marked.some((m) => m.length > 0)) {
    const outside = marked.flat().filter((c) => !clouds.includes(c));
    if (outside.length > 0)
      return {
        problem: `the cell marks ${outside.join(", ")}, which its section (${clouds.join(", ")}) does not cover`,
      };
    const rest = clouds.filter((c) => !marked.flat().includes(c));
    const resolved = resolveAll(items);
    if ("problem" in resolved) return resolved;
    const requirements: Requirement[] = [];
    for (const [index, r] of resolved.entries()) {
      const own = marked[index]!;
      if (own.length === 0 && rest.length === 0)
        return {
          problem: `"${items[index]!.written}" names no cloud, and the cell gives every cloud its own host`,
        };
      requirements.push({
        resolved: r,
        clouds: own.length > 0 ? own : rest,
        conditions: conditionsOf([items[index]!]),
        notes: [],
      });
    }
    return requirements;
  }

  if (joins.includes("or")) {
    if (joins.some((j) => j !== "or"))
      return { problem: `the cell mixes "or" with other separators (${[...new Set(joins)].join(", ")})` };
    const hosts = items.every(
      (i) => !isAny(i, judgements) && (i.written.includes(".") || i.written.includes("<")),
    );
    if (hosts && clouds.length > 1) return perCloudAlternatives(items, clouds, judgements);
    // Alternatives for one destination: never "any destination"; one left is it, several need a judgement.
    const named = items.filter((i) => !isAny(i, judgements));
    const notes = named.length < items.length ? [judgements.anyDestination.note] : [];
    if (named.length === 1) {
      const r = resolveItem(named[0]!, judgements);
      if (failed(r)) return r;
      return [{ resolved: r, clouds: [...clouds], conditions: conditionsOf(named), notes }];
    }
    const read = named.map((i) => itemKey(i, judgements));
    const keys = read.map((r) => r.key).sort();
    const rule = judgements.alternatives.find((a) => {
      const offers = a.offers.map((o) => alternativeKey(o, judgements)).sort();
      return offers.length === keys.length && offers.every((o, i) => o === keys[i]);
    });
    if (rule === undefined)
      return {
        problem: `the page offers alternatives (${items.map((i) => i.written).join(" or ")}), and no judgement says which one a rule uses`,
      };
    const resolved: Resolved = { key: keys.join("|"), destination: rule.destination, notes: [] };
    const readNotes = read.flatMap((r) => r.notes);
    return [
      {
        resolved,
        clouds: [...clouds],
        conditions: conditionsOf(named),
        notes: [...notes, rule.note, ...readNotes],
      },
    ];
  }

  // A list: every destination is needed, by the section's clouds, or by the one cloud the row names.
  const resolved = resolveAll(items);
  if ("problem" in resolved) return resolved;
  let rowClouds = [...clouds];
  const notes: string[] = [];
  if (clouds.length > 1) {
    const named = cloudsNamed(use, judgements).filter((c) => clouds.includes(c));
    if (named.length > 0 && named.length < clouds.length) {
      rowClouds = named;
      notes.push(`The row's text names ${named.join(", ")}: for that cloud only.`);
    }
  }
  return resolved.map((r, index) => ({
    resolved: r,
    clouds: rowClouds,
    conditions: conditionsOf([items[index]!]),
    notes,
  }));
}

/** "A or B or C" of hosts in a section for several clouds: one host per cloud, told apart by suffix. */
function perCloudAlternatives(
  items: readonly CellItem[],
  clouds: readonly Cloud[],
  judgements: Judgements,
): Requirement[] | Failure {
  const resolved: Resolved[] = [];
  for (const item of items) {
    const r = resolveItem(item, judgements);
    if (failed(r)) return r;
    resolved.push(r);
  }
  const owners = resolved.map((r) => {
    const host = r.destination.kind === "fqdn" ? r.destination.host : "";
    return judgements.cloudSuffixes.find((s) => s.suffixes.some((suffix) => host.endsWith(suffix)));
  });
  const claimed = owners.flatMap((o) => (o === undefined ? [] : [o.cloud]));
  const unowned = owners.filter((o) => o === undefined).length;
  const rest = clouds.filter((c) => !claimed.includes(c));
  const list = items.map((i) => i.written).join(" or ");
  if (new Set(claimed).size !== claimed.length || claimed.some((c) => !clouds.includes(c)) || unowned > 1)
    return { problem: `cannot tell which cloud each of ${list} is for` };
  if (unowned === 1 && rest.length === 0)
    return { problem: `cannot tell which cloud each of ${list} is for` };
  return resolved.map((r, index) => {
    const owner = owners[index];
    return {
      resolved: r,
      clouds: owner === undefined ? rest : [owner.cloud],
      conditions: conditionsOf([items[index]!]),
      notes: [...new Set(owners.flatMap((o) => (o === undefined ? [] : [o.note])))],
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// Entries.

const CLOUD_SLUG: Record<Cloud, string> = {
  AzureCloud: "public",
  AzureChinaCloud: "china",
  AzureUSGovernment: "usgov",
};

/** An entry's id: feature, clouds, destination and (for non-web ports) ports, in kebab case. */
export function entryId(
  feature: Feature,
  clouds: readonly Cloud[],
  destination: Destination,
  ports: readonly PortSpec[],
) {
  const cloudSlug = clouds.length === CLOUDS.length ? "all" : clouds.map((c) => CLOUD_SLUG[c]).join("-");
  const target =
    destination.kind === "fqdn"
      ? destination.host.replace(/^\*\./, "wildcard.").replace(/\{region\}/g, "region")
      : destination.kind === "serviceTag"
        ? `tag.${destination.tag.replace(/\{region\}/g, "region")}`
        : destination.kind === "parameter"
          ? destination.parameter.replace(/[A-Z]/g, (c) => `-${c}`)
          : destination.kind === "apiServer"
            ? "api-server"
            : "unspecified";
  const webOnly =
    destination.kind === "fqdn" && ports.every((p) => p.protocol === "HTTP" || p.protocol === "HTTPS");
  const portSlug = webOnly ? "" : ports.map((p) => `${p.protocol}-${p.port}`).join("-");
  return [feature, cloudSlug, target, portSlug]
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

const orderedClouds = (clouds: readonly Cloud[]) => CLOUDS.filter((c) => clouds.includes(c));

interface RowContext {
  plan: TablePlan;
  columns: Columns;
  clouds: Cloud[];
  cloudNotes: string[];
  judgements: Judgements;
}

function cellAt(row: TableRow, index: number | undefined): Cell | undefined {
  return index === undefined ? undefined : row.cells[index];
}

/** One row → its entries (without ids), or why it cannot be read. */
function readRow(row: TableRow, context: RowContext): Omit<CatalogEntry, "id">[] | Failure {
  const { plan, columns, judgements } = context;
  if (row.extraCells > 0)
    return {
      problem: `the row has ${row.extraCells} more cell(s) than the table's header, which markdown drops`,
    };
  if (row.cells.every((c) => c.plain === "")) return { problem: "the row is empty" };
  const destinationCell = cellAt(row, columns.destination)!;
  const portCell = cellAt(row, columns.port)!;
  const protocolCell = cellAt(row, columns.protocol);
  const useCell = cellAt(row, columns.use);

  const ports = readPorts(portCell, protocolCell, plan.kind === "application", judgements);
  const cell = readDestinationCell(destinationCell);
  const problems = [...cell.problems, ...ports.problems];
  for (const item of cell.items)
    if (item.port !== undefined && !ports.ports.some((p) => p.port === item.port))
      problems.push(`"${item.written}:${item.port}" disagrees with the port column (${portCell.plain})`);
  if (problems.length > 0) return { problem: problems.join("; ") };

  const use = useCell?.plain ?? "";
  const requirements = requirementsOf(cell, context.clouds, use, judgements);
  if (failed(requirements)) return requirements;

  const heading = plan.nearestFirst[0]!;
  const portsAsWritten =
    protocolCell === undefined
      ? portCell.raw
      : columns.protocol! < columns.port
        ? `${protocolCell.raw} | ${portCell.raw}`
        : `${portCell.raw} | ${protocolCell.raw}`;
  const entries: Omit<CatalogEntry, "id">[] = [];
  for (const requirement of requirements) {
    const { resolved } = requirement;
    const notes = [
      ...(plan.feature?.note !== undefined ? [plan.feature.note] : []),
      ...context.cloudNotes,
      ...requirement.notes,
      ...resolved.notes,
      ...ports.notes,
    ];
    const entry: Omit<CatalogEntry, "id"> = {
      clouds: orderedClouds(requirement.clouds),
      feature: resolved.feature ?? plan.feature!.feature,
      required: plan.required,
      destination: resolved.destination,
      asWritten: destinationCell.raw,
      ports: ports.ports,
      portsAsWritten: portsAsWritten === "" ? portCell.plain : portsAsWritten,
      purpose: use !== "" ? use : heading.text,
      source: { section: heading.anchor, table: heading.text, line: row.line },
    };
    const uniqueNotes = [...new Set(notes)];
    if (uniqueNotes.length > 0) entry.note = uniqueNotes.join(" ");
    const conditions = [...new Set(requirement.conditions)];
    if (conditions.length > 0) entry.condition = conditions.join("; ");
    if (resolved.onlyWithParameter !== undefined) entry.onlyWithParameter = resolved.onlyWithParameter;
    entries.push(entry);
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------

function recognise(page: Page, plans: readonly TablePlan[]): string | undefined {
  const title = page.frontMatter.title ?? page.headings.find((h) => h.level === 1)?.text;
  if (title === undefined) return "it has no title (no front matter title, no top-level heading)";
  if (!/outbound|egress/i.test(title) || !/\bAKS\b|kubernetes/i.test(title))
    return `its title "${title}" is not about AKS outbound rules`;
  if (!plans.some((p) => typeof p.columns !== "string"))
    return "it has no table with a destination column and a port column";
  return undefined;
}

function isoDate(msDate: string | undefined): string | undefined {
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(msDate?.trim() ?? "");
  if (!match) return undefined;
  return `${match[3]}-${match[1]!.padStart(2, "0")}-${match[2]!.padStart(2, "0")}`;
}

export function importPage(source: string, options: ImportOptions): ImportOutcome {
  const judgements = options.judgements ?? shippedJudgements();
  const page = readPage(source);
  const plans = page.tables.map((t) => planTable(t, judgements));
  const unrecognised = recognise(page, plans);
  if (unrecognised !== undefined)
    return { ok: false, problem: `not an AKS outbound-rules page: ${unrecognised}` };

  const msDate = page.frontMatter["ms.date"];
  const date = options.date ?? isoDate(msDate);
  if (date === undefined || !DATE.test(date))
    return {
      ok: false,
      problem: `the page has no readable ms.date ("${msDate ?? ""}") and no date was given`,
    };
  const version = options.version ?? date.slice(0, 7);
  if (!VERSION.test(version))
    return { ok: false, problem: `version "${version}" is not YYYY-MM or YYYY-MM-DD` };

  const review: ReviewItem[] = [];
  const lines: Record<string, number> = {};
  const entries: CatalogEntry[] = [];
  const ids = new Set<string>();

  for (const html of page.htmlTables)
    review.push({
      line: html.line,
      text: html.source.split("\n")[0] ?? "",
      reason: "an HTML table: the importer reads markdown tables only",
    });

  for (const plan of plans) {
    const { table } = plan;
    const toReview = (row: TableRow, reason: string) =>
      review.push({ line: row.line, text: row.source, reason });
    const where = plan.nearestFirst.map((h) => `"${h.text}"`).join(" < ") || "(no heading)";
    if (typeof plan.columns === "string") {
      for (const row of table.rows) toReview(row, `${plan.columns}; table under ${where}`);
      continue;
    }
    if (plan.feature === undefined) {
      for (const row of table.rows)
        toReview(row, `the section ${where} maps to no feature (no judgement matches its headings)`);
      continue;
    }
    const { clouds, notes } = sectionClouds(plan, plans, judgements);
    const context: RowContext = { plan, columns: plan.columns, clouds, cloudNotes: notes, judgements };
    for (const row of table.rows) {
      const read = readRow(row, context);
      if (failed(read)) {
        toReview(row, read.problem);
        continue;
      }
      const built: CatalogEntry[] = [];
      const problems: string[] = [];
      for (const draft of read) {
        const base = entryId(draft.feature, draft.clouds, draft.destination, draft.ports);
        let id = base;
        for (let n = 2; ids.has(id) || built.some((b) => b.id === id); n++) id = `${base}-${n}`;
        const checked = entrySchema.safeParse({ id, ...draft });
        if (checked.success) built.push(checked.data);
        else problems.push(...checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
      }
      if (problems.length > 0) {
        toReview(row, `not a valid catalog entry: ${problems.join("; ")}`);
        continue;
      }
      for (const entry of built) {
        ids.add(entry.id);
        entries.push(entry);
        lines[entry.id] = row.line;
      }
    }
  }

  if (entries.length === 0)
    return {
      ok: false,
      problem: `not an AKS outbound-rules page: no table row could be read as a requirement (${review.length} row(s) unread)`,
    };

  const title = page.frontMatter.title ?? page.headings.find((h) => h.level === 1)?.text ?? "";
  const referenceParts = [options.reference, msDate !== undefined ? `ms.date ${msDate}` : undefined];
  const reference = referenceParts.filter((p) => p !== undefined && p !== "").join(", ") || undefined;
  const catalog = catalogSchema.parse({
    version,
    title: `${title} — page of ${date}`,
    document: {
      path: options.path,
      language: "en-US",
      title,
      date,
      ...(reference !== undefined ? { reference } : {}),
    },
    remarks: [],
    entries,
  });
  review.sort((a, b) => a.line - b.line);
  return { ok: true, imported: { catalog, lines, review } };
}

// Watching Microsoft's AKS outbound-rules page (issue 11, part 3; notify only): fetch the page's
// markdown source with the last ETag seen, read it as a catalog version with the importer, compare its
// requirements with the catalog version in use (`catalog diff`'s diffCatalogs) and, on a difference,
// log AksEgressGuard.CatalogChanged and publish it to the notification topic. Nothing is adopted: the
// catalog in use stays what AKS_EGRESS_CATALOG_VERSION says. A fetch failure, a page the importer
// cannot read or a page with rows to review is reported (AksEgressGuard.CatalogWatchFailed) and
// changes nothing, not even what was last seen, so the next run tries (and reports) again.
import { createHash } from "node:crypto";
import { type CatalogDiff, diffCatalogs, loadCatalog, type RequirementChange } from "../catalog";
import { pageHash, readPageAsVersion } from "../catalog/import/version";
import { CLOUD_EVENT_SOURCE, publishNotifications } from "./notifications";
import type { AppSettings } from "./settings";
import { EVENTS, type Logger, logEvent } from "./telemetry";

export const CATALOG_CHANGED_TYPE = "AksEgressGuard.CatalogChanged";

/** Changes a CloudEvent carries (Event Grid takes 1 MB per event; a change is ~200 bytes). */
export const EVENT_CHANGES_MAX = 200;
/** Changes a trace line shows: the rest is in the counts. */
export const TRACE_CHANGES_MAX = 5;
/** The page is ~60 KB; anything far bigger is not it. */
const PAGE_BYTES_MAX = 4 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

/**
 * What the watch last saw. Kept in this process's memory only (no store holds it yet): a restart
 * fetches the page without If-None-Match and reports a standing difference once more.
 */
export interface WatchState {
  /** The catalog version the rest was seen against; a different one starts afresh. */
  catalogVersion?: string;
  url?: string;
  etag?: string;
  /** SHA-256 of the last page read successfully (for servers that ignore If-None-Match). */
  pageSha256?: string;
  /** A hash of the last difference reported, so that the same difference is reported once. */
  reported?: string;
}

export type WatchOutcome =
  | { outcome: "not-modified" }
  | { outcome: "same-page" }
  | { outcome: "matches"; importedAs: string }
  | { outcome: "already-reported"; importedAs: string; changes: number }
  | { outcome: "changed"; importedAs: string; changes: number; published: boolean }
  | { outcome: "failed"; stage: "fetch" | "read" | "review" | "publish"; reason: string };

export interface CatalogChangedData {
  url: string;
  etag?: string;
  pageSha256: string;
  /** The page's date (its ms.date) and the version id the importer gave it. */
  pageDate: string;
  importedAs: string;
  /** Whose judgement calls the page was read with (catalog/judgements/<version>.json). */
  judgements: string;
  /** The catalog version in use, compared against, and the cloud compared. */
  catalogVersion: string;
  cloud: string;
  adoption: "notify";
  counts: { added: number; removed: number; changed: number; total: number };
  /** The requirement diff, from the catalog in use to the page, first EVENT_CHANGES_MAX of it. */
  changes: RequirementChange[];
  changesLeftOut: number;
  /** Judgements that no longer match anything on the page: the page moved under them. */
  unmatchedJudgements: string[];
}

const processState: WatchState = {};

/** One line per change, as a trace shows it: `added AzureCloud base packages.aks.azure.com HTTPS:443`. */
export function changeLine(c: RequirementChange): string {
  const ports =
    c.change === "removed"
      ? (c.before ?? []).join(",")
      : c.change === "added"
        ? (c.after ?? []).join(",")
        : `${(c.before ?? []).join(",")} -> ${(c.after ?? []).join(",")}`;
  return `${c.change} ${c.cloud} ${c.feature} ${c.destination} ${ports}${c.detail ? ` (${c.detail})` : ""}`;
}

function counts(diff: CatalogDiff): CatalogChangedData["counts"] {
  const n = (kind: RequirementChange["change"]) => diff.changes.filter((c) => c.change === kind).length;
  return { added: n("added"), removed: n("removed"), changed: n("changed"), total: diff.changes.length };
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

export interface WatchOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  state?: WatchState;
}

/** One run of the watch. Never throws: every outcome is a result, and failures are also logged. */
export async function watchCatalog(
  settings: AppSettings,
  logger: Logger,
  options: WatchOptions = {},
): Promise<WatchOutcome> {
  const state = options.state ?? processState;
  const url = settings.catalogWatchUrl;
  if (state.catalogVersion !== settings.catalogVersion || state.url !== url) {
    for (const key of Object.keys(state)) delete state[key as keyof WatchState];
  }
  const failed = (
    stage: Extract<WatchOutcome, { outcome: "failed" }>["stage"],
    why: string,
    more: Record<string, unknown> = {},
  ): WatchOutcome => {
    logEvent(
      logger,
      EVENTS.catalogWatchFailed,
      { url, stage, reason: why, catalogVersion: settings.catalogVersion, ...more },
      "warn",
    );
    return { outcome: "failed", stage, reason: why };
  };

  let source: string;
  let etag: string | undefined;
  try {
    const response = await (options.fetch ?? fetch)(url, {
      headers: {
        accept: "text/markdown, text/plain;q=0.9, */*;q=0.1",
        ...(state.etag !== undefined ? { "if-none-match": state.etag } : {}),
      },
      signal: AbortSignal.timeout(options.timeoutMs ?? FETCH_TIMEOUT_MS),
    });
    if (response.status === 304) {
      await response.body?.cancel();
      logger.info(`catalog watch: ${url} not modified since ETag ${state.etag ?? "(none)"}`);
      return { outcome: "not-modified" };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return failed("fetch", `HTTP ${response.status} ${response.statusText}`.trim());
    }
    const length = Number(response.headers.get("content-length") ?? "0");
    if (length > PAGE_BYTES_MAX) {
      await response.body?.cancel();
      return failed("fetch", `the page is ${length} bytes, more than ${PAGE_BYTES_MAX}`);
    }
    source = await response.text();
    if (source.length > PAGE_BYTES_MAX)
      return failed("fetch", `the page is ${source.length} characters, more than ${PAGE_BYTES_MAX}`);
    etag = response.headers.get("etag") ?? undefined;
  } catch (error) {
    return failed("fetch", reason(error));
  }

  const sha = pageHash(source);
  if (sha === state.pageSha256) {
    // The server ignored If-None-Match (or has no ETags): the same text, already compared.
    if (etag !== undefined) state.etag = etag;
    logger.info(`catalog watch: ${url} is the page already compared (SHA-256 ${sha.slice(0, 12)})`);
    return { outcome: "same-page" };
  }

  let read: ReturnType<typeof readPageAsVersion>;
  try {
    read = readPageAsVersion(source, { path: url });
  } catch (error) {
    return failed("read", `the importer failed: ${reason(error)}`, { pageSha256: sha });
  }
  if (!read.ok) return failed("read", read.problem, { pageSha256: sha });
  const { built } = read;
  if (built.review.length > 0)
    return failed(
      "review",
      `${built.review.length} row(s) of the page need review before it can be compared`,
      {
        pageSha256: sha,
        review: built.review
          .slice(0, TRACE_CHANGES_MAX)
          .map((r) => ({ line: r.line, reason: r.reason, text: r.text.slice(0, 200) })),
      },
    );

  const diff = diffCatalogs(loadCatalog(settings.catalogVersion), built.catalog, [settings.cloud]);
  const importedAs = built.catalog.version;
  const seen = (reported?: string) => {
    state.catalogVersion = settings.catalogVersion;
    state.url = url;
    state.pageSha256 = sha;
    if (etag !== undefined) state.etag = etag;
    else delete state.etag;
    if (reported !== undefined) state.reported = reported;
    else delete state.reported;
  };
  if (diff.changes.length === 0) {
    seen();
    logger.info(
      `catalog watch: the page (${importedAs}) holds the requirements of catalog version ${settings.catalogVersion} for ${settings.cloud}`,
    );
    return { outcome: "matches", importedAs };
  }
  const key = createHash("sha256")
    .update(JSON.stringify([settings.catalogVersion, settings.cloud, diff.changes]))
    .digest("hex");
  if (key === state.reported) {
    seen(key);
    logger.info(
      `catalog watch: the page changed but its difference from ${settings.catalogVersion} (${diff.changes.length} change(s)) was reported already`,
    );
    return { outcome: "already-reported", importedAs, changes: diff.changes.length };
  }

  const data: CatalogChangedData = {
    url,
    ...(etag !== undefined ? { etag } : {}),
    pageSha256: sha,
    pageDate: built.catalog.document.date,
    importedAs,
    judgements: built.judgements,
    catalogVersion: settings.catalogVersion,
    cloud: settings.cloud,
    adoption: settings.catalogAdoption,
    counts: counts(diff),
    changes: diff.changes.slice(0, EVENT_CHANGES_MAX),
    changesLeftOut: Math.max(0, diff.changes.length - EVENT_CHANGES_MAX),
    unmatchedJudgements: built.unmatched.slice(0, 20).map((u) => `${u.note} (${u.reason})`.slice(0, 300)),
  };
  const topic = settings.notificationTopicEndpoint !== undefined;
  logEvent(logger, EVENTS.catalogChanged, {
    url,
    pageSha256: sha,
    pageDate: data.pageDate,
    importedAs,
    catalogVersion: settings.catalogVersion,
    cloud: settings.cloud,
    adoption: settings.catalogAdoption,
    counts: data.counts,
    firstChanges: diff.changes.slice(0, TRACE_CHANGES_MAX).map(changeLine),
    unmatchedJudgements: built.unmatched.length,
    sentTo: topic ? "notification topic" : "nowhere: no notification topic is set",
  });
  let published = false;
  try {
    published = await publishNotifications(settings, [
      {
        type: CATALOG_CHANGED_TYPE,
        source: CLOUD_EVENT_SOURCE,
        subject: `catalog/${settings.catalogVersion}`,
        id: `catalog-changed-${sha.slice(0, 16)}-${key.slice(0, 16)}`,
        data,
      },
    ]);
  } catch (error) {
    // Not recorded as seen: the next run reports it again.
    return failed("publish", `publishing to the notification topic failed: ${reason(error)}`, {
      pageSha256: sha,
    });
  }
  seen(key);
  return { outcome: "changed", importedAs, changes: diff.changes.length, published };
}

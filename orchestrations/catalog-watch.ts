// Watching Microsoft's AKS outbound-rules page (issue 11, part 3): fetch the page's markdown source
// with the last ETag seen, read it as a catalog version with the importer, compare its requirements
// with the catalog version in use (`catalog diff`'s diffCatalogs) and, on a difference, log
// AksEgressGuard.CatalogChanged and publish it to the notification topic with what each policy's
// clusters would gain and lose. With AKS_EGRESS_CATALOG_ADOPTION=approve the page is also stored and
// offered: each policy then plans with it and asks a person (catalog-adoption.ts); nothing is applied
// unapproved. A fetch failure, a page the importer cannot read or a page with rows to review is
// reported (AksEgressGuard.CatalogWatchFailed) and changes nothing, not even what was last seen, so
// the next run tries (and reports) again. What was last seen lives in the catalog store (watch.json),
// so a restart neither refetches blindly nor reports the same difference twice.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { CatalogStore } from "../azure/catalog-store";
import {
  type Catalog,
  type CatalogDiff,
  diffCatalogs,
  loadCatalog,
  type RequirementChange,
} from "../catalog";
import { pageHash, readPageAsVersion } from "../catalog/import/version";
import { type CatalogImpact, catalogImpact } from "../drift/catalog-impact";
import { isGuardError } from "../errors";
import { policyCatalog } from "./activities/catalog-choice";
import { gatherPolicy } from "./activities/gather";
import { connectionFor, passSettingsFrom } from "./activities/handlers";
import { updateAdoption, withOffer } from "./catalog-adoption";
import { catalogStoreFor } from "./catalog-store";
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

/** The catalog store document that holds what the watch last saw. */
export const WATCH_DOCUMENT = "watch.json";

const watchStateSchema = z.object({
  /** The catalog version the rest was seen against; a different one starts afresh. */
  catalogVersion: z.string().optional(),
  url: z.string().optional(),
  etag: z.string().optional(),
  /** SHA-256 of the last page read successfully (for servers that ignore If-None-Match). */
  pageSha256: z.string().optional(),
  /** A hash of the last difference reported, so that the same difference is reported once. */
  reported: z.string().optional(),
});
export type WatchState = z.infer<typeof watchStateSchema>;

export type WatchOutcome =
  | { outcome: "not-modified" }
  | { outcome: "same-page" }
  | { outcome: "matches"; importedAs: string }
  | { outcome: "already-reported"; importedAs: string; changes: number }
  | {
      outcome: "changed";
      importedAs: string;
      changes: number;
      published: boolean;
      /** With adoption "approve": the page was stored and offered to every policy (signal them). */
      offered: boolean;
    }
  | { outcome: "failed"; stage: "store" | "fetch" | "read" | "review" | "offer" | "publish"; reason: string };

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
  adoption: "notify" | "approve";
  /** With "approve": each policy plans with the page and asks a person before anything is written. */
  offered: boolean;
  counts: { added: number; removed: number; changed: number; total: number };
  /** The requirement diff, from the catalog in use to the page, first EVENT_CHANGES_MAX of it. */
  changes: RequirementChange[];
  changesLeftOut: number;
  /** Judgements that no longer match anything on the page: the page moved under them. */
  unmatchedJudgements: string[];
  /** Per policy in scope: what its clusters would gain and lose with the page. */
  policies: PolicyImpact[];
}

/** What one policy's clusters would gain and lose, bounded for the event (counts stay exact). */
export type PolicyImpact =
  | ({ policyId: string; catalogInUse: string; groupsLeftOut: number } & CatalogImpact)
  | { policyId: string; error: string };

/** Impact groups per policy in an event, and requirement lines per group. */
const IMPACT_GROUPS_MAX = 20;
const IMPACT_ITEMS_MAX = 40;

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
  /** Where what was seen, and the pages offered, are kept (default: the configured catalog store). */
  store?: CatalogStore;
  /** What each policy in scope would gain and lose (default: read each policy's estate from ARM). */
  impacts?: (page: Catalog) => Promise<PolicyImpact[]>;
}

function bounded(policyId: string, catalogInUse: string, impact: CatalogImpact): PolicyImpact {
  const groups = impact.groups.slice(0, IMPACT_GROUPS_MAX).map((g) => ({
    ...g,
    gains: g.gains.slice(0, IMPACT_ITEMS_MAX),
    losses: g.losses.slice(0, IMPACT_ITEMS_MAX),
  }));
  return {
    policyId,
    catalogInUse,
    ...impact,
    groups,
    groupsLeftOut: impact.groups.length - groups.length,
  };
}

/** Each policy in scope: its clusters as a pass reads them, against the catalog it plans with now. */
export async function policyImpacts(settings: AppSettings, page: Catalog): Promise<PolicyImpact[]> {
  const out: PolicyImpact[] = [];
  for (const policyId of settings.firewallPolicies) {
    try {
      const chosen = await policyCatalog(settings, policyId);
      const current = chosen.replacing ?? chosen.catalog;
      const gathered = await gatherPolicy(connectionFor(settings), policyId, passSettingsFrom(settings));
      out.push(bounded(policyId, current.version, catalogImpact(gathered.clusters, current, page)));
    } catch (error) {
      out.push({ policyId, error: reason(error) });
    }
  }
  return out;
}

/** One run of the watch. Never throws: every outcome is a result, and failures are also logged. */
export async function watchCatalog(
  settings: AppSettings,
  logger: Logger,
  options: WatchOptions = {},
): Promise<WatchOutcome> {
  const url = settings.catalogWatchUrl;
  let store: CatalogStore;
  let state: WatchState = {};
  let stateEtag: string | undefined;
  try {
    store = options.store ?? catalogStoreFor(settings);
    const doc = await store.read(WATCH_DOCUMENT);
    const parsed = watchStateSchema.safeParse(doc?.value);
    stateEtag = doc?.etag;
    // Unreadable, or seen against another catalog version or URL: start afresh.
    if (parsed.success && parsed.data.catalogVersion === settings.catalogVersion && parsed.data.url === url)
      state = parsed.data;
  } catch (error) {
    logEvent(
      logger,
      EVENTS.catalogWatchFailed,
      { url, stage: "store", reason: reason(error), catalogVersion: settings.catalogVersion },
      "warn",
    );
    return { outcome: "failed", stage: "store", reason: reason(error) };
  }
  const remember = async (next: WatchState) => {
    try {
      stateEtag = await store.write(WATCH_DOCUMENT, next, stateEtag);
    } catch (error) {
      // Another run wrote first (timers are singletons, so rarely): it saw at least as much.
      if (!isGuardError(error, "CATALOG_STORE_CONFLICT")) throw error;
    }
  };
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
    if (etag !== undefined && etag !== state.etag) await remember({ ...state, etag });
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
  const seenState = (reported?: string): WatchState => ({
    catalogVersion: settings.catalogVersion,
    url,
    pageSha256: sha,
    ...(etag !== undefined ? { etag } : {}),
    ...(reported !== undefined ? { reported } : {}),
  });
  const seen = (reported?: string) => remember(seenState(reported));
  if (diff.changes.length === 0) {
    await seen();
    logger.info(
      `catalog watch: the page (${importedAs}) holds the requirements of catalog version ${settings.catalogVersion} for ${settings.cloud}`,
    );
    return { outcome: "matches", importedAs };
  }
  const key = createHash("sha256")
    .update(JSON.stringify([settings.catalogVersion, settings.cloud, diff.changes]))
    .digest("hex");
  if (key === state.reported) {
    await seen(key);
    logger.info(
      `catalog watch: the page changed but its difference from ${settings.catalogVersion} (${diff.changes.length} change(s)) was reported already`,
    );
    return { outcome: "already-reported", importedAs, changes: diff.changes.length };
  }

  // Claimed before anything is announced: two runs at once (the schedule's and one on demand) both
  // read the old state, and only the one whose conditional write lands reports. A failure below gives
  // the claim back, so the next run reports it.
  const before = state;
  try {
    stateEtag = await store.write(WATCH_DOCUMENT, seenState(key), stateEtag);
  } catch (error) {
    if (!isGuardError(error, "CATALOG_STORE_CONFLICT"))
      return failed("store", `recording the difference failed: ${reason(error)}`, { pageSha256: sha });
    logger.info("catalog watch: another run recorded this page first; it reports it");
    return { outcome: "already-reported", importedAs, changes: diff.changes.length };
  }
  const giveBack = async () => {
    try {
      stateEtag = await store.write(WATCH_DOCUMENT, before, stateEtag);
    } catch {
      // Someone wrote since: they saw at least as much.
    }
  };

  // Offered before it is announced, so that the event never names an offer the policies cannot see.
  const offered = settings.catalogAdoption === "approve";
  if (offered) {
    try {
      await store.putPage(source);
      await updateAdoption(store, settings, (record) =>
        withOffer(record, {
          pageSha256: sha,
          importedAs,
          pageDate: built.catalog.document.date,
          url,
          offeredAt: new Date().toISOString(),
        }),
      );
    } catch (error) {
      await giveBack();
      return failed("offer", `storing the page for adoption failed: ${reason(error)}`, { pageSha256: sha });
    }
  }
  const policies = await (options.impacts ?? ((page) => policyImpacts(settings, page)))(built.catalog);

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
    offered,
    counts: counts(diff),
    changes: diff.changes.slice(0, EVENT_CHANGES_MAX),
    changesLeftOut: Math.max(0, diff.changes.length - EVENT_CHANGES_MAX),
    unmatchedJudgements: built.unmatched.slice(0, 20).map((u) => `${u.note} (${u.reason})`.slice(0, 300)),
    policies,
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
    offered,
    policies: policies.map((p) =>
      "error" in p
        ? `${p.policyId}: not read (${p.error})`
        : `${p.policyId}: ${p.clustersAffected} of ${p.clusterCount} cluster(s) affected`,
    ),
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
    // Not kept as seen: the next run reports it again.
    await giveBack();
    return failed("publish", `publishing to the notification topic failed: ${reason(error)}`, {
      pageSha256: sha,
    });
  }
  return { outcome: "changed", importedAs, changes: diff.changes.length, published, offered };
}

// Adopting a newer edition of Microsoft's page (AKS_EGRESS_CATALOG_ADOPTION=approve): the watch offers
// the page it read, and each firewall policy plans with it only through a person's approval (DESIGN
// "The catalog follows Microsoft"). The offer and each policy's answer live in one JSON document in
// the catalog store (a blob in Azure), next to the page source itself, so that every instance of the
// app and every restart sees the same catalog per policy.
import { z } from "zod";
import type { CatalogStore } from "../azure/catalog-store";
import { type Catalog, CLOUDS, type Cloud } from "../catalog";
import { readPageAsVersion } from "../catalog/import/version";
import { GuardError, isGuardError } from "../errors";

export const ADOPTION_DOCUMENT = "adoption.json";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const text = z.string().min(1).max(2_000);

const offerSchema = z.object({
  pageSha256: sha256,
  /** The version id the importer gave the page (its date). */
  importedAs: text,
  pageDate: text,
  url: text,
  offeredAt: text,
});

const answerSchema = z.object({
  pageSha256: sha256,
  importedAs: text,
  /** adopted: written with a person's approval; declined: rejected; expired: nobody answered. */
  state: z.enum(["adopted", "declined", "expired"]),
  at: text,
  by: text.optional(),
});

const recordSchema = z.object({
  /** The configured catalog version the record is about: another one voids it (a new start). */
  against: text,
  cloud: z.enum(CLOUDS),
  offer: offerSchema.optional(),
  /** Per firewall policy (ID in lower case): its last answer. */
  policies: z.record(z.string(), answerSchema),
});

export type CatalogOffer = z.infer<typeof offerSchema>;
export type PolicyAnswer = z.infer<typeof answerSchema>;
export type AdoptionRecord = z.infer<typeof recordSchema>;

/** Which catalog a policy's pass plans with, as history and status carry it (no catalog data). */
export type CatalogInUse =
  | { source: "configured"; version: string }
  | { source: "adopted"; version: string; pageSha256: string }
  /** A page offered and not yet answered for this policy: planning with it always asks a person. */
  | {
      source: "candidate";
      version: string;
      pageSha256: string;
      /** The catalog the policy used until now (configured or adopted). */
      replacing: string;
    };

const key = (policyId: string) => policyId.toLowerCase();

/** The record in force for this configuration, or undefined (none, or one made for another). */
export function recordFor(
  value: unknown,
  configured: { catalogVersion: string; cloud: Cloud },
): AdoptionRecord | undefined {
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success)
    throw new GuardError(
      "CATALOG_STORE_CORRUPT",
      `${ADOPTION_DOCUMENT} in the catalog store is not an adoption record: ${parsed.error.issues[0]?.message ?? "invalid"}`,
    );
  const record = parsed.data;
  return record.against === configured.catalogVersion && record.cloud === configured.cloud
    ? record
    : undefined;
}

/** Pure: the catalog a policy plans with, given the record in force. */
export function catalogInUse(
  record: AdoptionRecord | undefined,
  configuredVersion: string,
  policyId: string,
): CatalogInUse {
  const answer = record?.policies[key(policyId)];
  const current: CatalogInUse =
    answer?.state === "adopted"
      ? { source: "adopted", version: answer.importedAs, pageSha256: answer.pageSha256 }
      : { source: "configured", version: configuredVersion };
  const offer = record?.offer;
  if (offer === undefined) return current;
  const answered = answer !== undefined && answer.pageSha256 === offer.pageSha256;
  if (answered) return current;
  return {
    source: "candidate",
    version: offer.importedAs,
    pageSha256: offer.pageSha256,
    replacing: current.version,
  };
}

const pages = new Map<string, Catalog>();

/** The catalog read from a stored page; the watch only offers pages that import with nothing to review. */
export async function storedPageCatalog(store: CatalogStore, pageSha256: string): Promise<Catalog> {
  const cached = pages.get(pageSha256);
  if (cached) return cached;
  const source = await store.getPage(pageSha256);
  if (source === undefined)
    throw new GuardError(
      "CATALOG_PAGE_MISSING",
      `the page ${pageSha256.slice(0, 12)}… is not in the catalog store (${store.describe()}); the watch stores every page it offers`,
    );
  const read = readPageAsVersion(source, { path: `catalog store page ${pageSha256.slice(0, 12)}` });
  if (!read.ok) throw new GuardError("CATALOG_PAGE_UNREADABLE", read.problem);
  if (read.built.review.length > 0)
    throw new GuardError(
      "CATALOG_PAGE_UNREADABLE",
      `the stored page ${pageSha256.slice(0, 12)}… has ${read.built.review.length} row(s) to review`,
    );
  pages.set(pageSha256, read.built.catalog);
  return read.built.catalog;
}

/** Reads the record in force (undefined when there is none) with its ETag for a conditional write. */
export async function readAdoption(
  store: CatalogStore,
  configured: { catalogVersion: string; cloud: Cloud },
): Promise<{ record: AdoptionRecord | undefined; etag: string | undefined }> {
  const doc = await store.read(ADOPTION_DOCUMENT);
  if (doc === undefined) return { record: undefined, etag: undefined };
  return { record: recordFor(doc.value, configured), etag: doc.etag };
}

/**
 * Read-modify-write of the record with the store's ETag, again when someone else wrote in between
 * (the watch and several policies' passes may write at once).
 */
export async function updateAdoption(
  store: CatalogStore,
  configured: { catalogVersion: string; cloud: Cloud },
  change: (record: AdoptionRecord) => AdoptionRecord,
): Promise<AdoptionRecord> {
  for (let attempt = 1; ; attempt++) {
    const { record, etag } = await readAdoption(store, configured);
    const next = change(
      structuredClone(record) ?? {
        against: configured.catalogVersion,
        cloud: configured.cloud,
        policies: {},
      },
    );
    try {
      await store.write(ADOPTION_DOCUMENT, next, etag);
      return next;
    } catch (error) {
      if (!isGuardError(error, "CATALOG_STORE_CONFLICT") || attempt >= 5) throw error;
    }
  }
}

/** The watch offers a page: each policy will plan with it and ask. A new offer replaces an older one. */
export function withOffer(record: AdoptionRecord, offer: CatalogOffer): AdoptionRecord {
  return { ...record, offer };
}

/** A policy's answer to the offer of that page. */
export function withAnswer(record: AdoptionRecord, policyId: string, answer: PolicyAnswer): AdoptionRecord {
  return { ...record, policies: { ...record.policies, [key(policyId)]: answer } };
}

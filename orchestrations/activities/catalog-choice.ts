// The catalog a policy's pass plans with: the configured version, a page a person adopted for this
// policy, or (with AKS_EGRESS_CATALOG_ADOPTION=approve) a page the watch offered and nobody has
// answered for this policy yet, which the orchestrator never applies without approval.
import { type Catalog, loadCatalog } from "../../catalog";
import { type CatalogInUse, catalogInUse, readAdoption, storedPageCatalog } from "../catalog-adoption";
import { catalogStoreFor } from "../catalog-store";
import type { AppSettings } from "../settings";
import type { PassSettings } from "./plan";

export interface PolicyCatalog {
  inUse: CatalogInUse;
  /** The catalog to plan with. */
  catalog: Catalog;
  /** For a candidate: the catalog it would replace (what the policy used until now). */
  replacing?: Catalog;
}

export async function policyCatalog(settings: AppSettings, policyId: string): Promise<PolicyCatalog> {
  const configured = loadCatalog(settings.catalogVersion);
  const store = catalogStoreFor(settings);
  const { record } = await readAdoption(store, settings);
  // An offer counts only while adoption is "approve"; answers already given count either way, so
  // switching back to notify does not undo what people adopted.
  const inUse = catalogInUse(
    settings.catalogAdoption === "approve" ? record : record && { ...record, offer: undefined },
    settings.catalogVersion,
    policyId,
  );
  if (inUse.source === "configured") return { inUse, catalog: configured };
  const catalog = await storedPageCatalog(store, inUse.pageSha256);
  if (inUse.source === "adopted") return { inUse, catalog };
  const answer = record?.policies[policyId.toLowerCase()];
  const replacing =
    answer?.state === "adopted" ? await storedPageCatalog(store, answer.pageSha256) : configured;
  return { inUse, catalog, replacing };
}

/** The pass settings with the policy's catalog in place of the configured version. */
export function withCatalog(pass: PassSettings, chosen: PolicyCatalog): PassSettings {
  if (chosen.inUse.source === "configured") return pass;
  return { ...pass, catalog: chosen.catalog, catalogVersion: chosen.catalog.version };
}

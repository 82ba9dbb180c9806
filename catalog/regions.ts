// Azure regions per cloud, by their programmatic names (what `location` holds on a cluster).
// A region missing here is an error for the user, so add new regions as Azure opens them.
import { distance } from "fastest-levenshtein";
import { GuardError } from "../errors";
import type { Cloud } from "./schema";

export const REGIONS: Readonly<Record<Cloud, readonly string[]>> = {
  AzureCloud: [
    "australiacentral",
    "australiacentral2",
    "australiaeast",
    "australiasoutheast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "brazilsoutheast",
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "chilecentral",
    "denmarkeast",
    "eastasia",
    "eastus",
    "eastus2",
    "francecentral",
    "francesouth",
    "germanynorth",
    "germanywestcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "jioindiacentral",
    "jioindiawest",
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southafricawest",
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "swedensouth",
    "switzerlandnorth",
    "switzerlandwest",
    "uaecentral",
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
  ],
  AzureChinaCloud: ["chinaeast", "chinaeast2", "chinaeast3", "chinanorth", "chinanorth2", "chinanorth3"],
  AzureUSGovernment: [
    "usdodcentral",
    "usdodeast",
    "usgovarizona",
    "usgoviowa",
    "usgovtexas",
    "usgovvirginia",
  ],
};

/** The closest names to `value` among `candidates`, best first (for "did you mean" messages). */
export function closest(value: string, candidates: readonly string[], count = 3): string[] {
  const needle = value.toLowerCase();
  return [...candidates]
    .map((name) => ({ name, score: distance(needle, name) - (name.startsWith(needle.slice(0, 4)) ? 1 : 0) }))
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((c) => c.name);
}

/**
 * Accepts a region name as Azure writes it in `location` (lower case, no spaces) and also the display
 * form ("West Europe"); anything else is an error naming the closest regions of that cloud.
 */
export function normaliseRegion(cloud: Cloud, value: string): string {
  const name = value.toLowerCase().replace(/[\s_-]+/g, "");
  const regions = REGIONS[cloud];
  if (regions.includes(name)) return name;
  const elsewhere = (Object.keys(REGIONS) as Cloud[]).filter((c) => c !== cloud && REGIONS[c].includes(name));
  const hint =
    elsewhere.length > 0 ? ` "${name}" is a region of ${elsewhere.join(", ")}, not of ${cloud}.` : "";
  const suggestions = closest(name, regions);
  throw new GuardError(
    "UNKNOWN_REGION",
    `unknown region "${value}" for ${cloud}.${hint} Did you mean: ${suggestions.join(", ")}? Valid regions: ${regions.join(", ")}.`,
    { details: { value, cloud, suggestions, valid: regions } },
  );
}

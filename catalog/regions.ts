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

/** The most "did you mean" suggestions a message shows. */
export const MAX_SUGGESTIONS = 5;

/**
 * The names among `candidates` that `value` most likely meant, best first, at most `count`: those
 * starting with it, then those containing it, then those a few edits away (about one edit per three
 * characters), each group by edit distance. Empty when nothing is close.
 */
export function closest(value: string, candidates: readonly string[], count = MAX_SUGGESTIONS): string[] {
  const needle = value.trim().toLowerCase();
  if (needle === "") return [];
  const maxEdits = Math.max(1, Math.floor(needle.length / 3));
  return candidates
    .map((name) => {
      const lower = name.toLowerCase();
      const edits = distance(needle, lower);
      const tier = lower.startsWith(needle)
        ? 0
        : needle.length >= 3 && lower.includes(needle)
          ? 1
          : edits <= maxEdits
            ? 2
            : undefined;
      return { name, tier, edits };
    })
    .filter((c): c is { name: string; tier: number; edits: number } => c.tier !== undefined)
    .sort((a, b) => a.tier - b.tier || a.edits - b.edits || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((c) => c.name);
}

/** " Did you mean: a, b?" or nothing, for the messages of unknown names. */
export function didYouMean(suggestions: readonly string[]): string {
  return suggestions.length > 0 ? ` Did you mean: ${suggestions.join(", ")}?` : "";
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
  // All of a cloud's regions are too many for one message (60 in AzureCloud): say where they are listed.
  throw new GuardError(
    "UNKNOWN_REGION",
    `unknown region "${value}" for ${cloud}.${hint}${didYouMean(suggestions)} Valid regions: the ${regions.length} of ${cloud}, listed by \`aks-egress catalog regions --cloud ${cloud}\`.`,
    { details: { value, cloud, suggestions, valid: regions } },
  );
}

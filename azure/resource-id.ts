// ARM resource IDs arrive in many casings (resourcegroups vs resourceGroups): parse them once and
// compare them lower-cased.
import { GuardError } from "../errors";

export interface ResourceId {
  subscriptionId: string;
  resourceGroup: string;
  /** e.g. "Microsoft.ContainerService/managedClusters" (as written). */
  type: string;
  name: string;
  /** Child segments after the resource, e.g. [["ruleCollectionGroups", "g1"]]. */
  children: [string, string][];
  /** The ID as given, without a trailing slash. */
  raw: string;
}

const ID =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/([^/]+)\/([^/]+)\/([^/]+)((?:\/[^/]+\/[^/]+)*)\/?$/i;

export function parseResourceId(value: string, expectedType?: string): ResourceId {
  const match = ID.exec(value.trim());
  if (match === null) {
    throw new GuardError(
      "BAD_ARGUMENT",
      `"${value}" is not an Azure resource ID (/subscriptions/…/resourceGroups/…/providers/…).`,
    );
  }
  const [, subscriptionId = "", resourceGroup = "", namespace = "", type = "", name = "", rest = ""] = match;
  const segments = rest.split("/").filter((s) => s !== "");
  const children: [string, string][] = [];
  for (let i = 0; i < segments.length; i += 2) children.push([segments[i] ?? "", segments[i + 1] ?? ""]);
  const id: ResourceId = {
    subscriptionId,
    resourceGroup,
    type: `${namespace}/${type}`,
    name,
    children,
    raw: value.trim().replace(/\/$/, ""),
  };
  if (
    expectedType !== undefined &&
    (id.type.toLowerCase() !== expectedType.toLowerCase() || children.length > 0)
  ) {
    throw new GuardError("BAD_ARGUMENT", `"${value}" is not a ${expectedType} resource ID.`);
  }
  return id;
}

export const sameId = (a: string, b: string) =>
  a.replace(/\/$/, "").toLowerCase() === b.replace(/\/$/, "").toLowerCase();

export const FIREWALL_POLICY_TYPE = "Microsoft.Network/firewallPolicies";
export const MANAGED_CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters";

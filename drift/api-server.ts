// A public API server's address, as the managed group allows it today: what a pass compares a freshly
// resolved address with (the page warns the address can change in maintenance), and what it keeps
// when DNS does not answer (a failed lookup must not remove a rule pods rely on).
import { isIP } from "node:net";
import { featuresOfDescription } from "./atoms";
import type { ClusterProfile, Finding, NetworkRuleBody, RuleCollectionGroup } from "./types";

/**
 * The addresses the group's pod-api-access rules allow on TCP 443 from every one of these node
 * subnets, sorted. Empty when the group holds none (a new cluster, or the feature just turned on).
 */
export function allowedApiServerAddresses(
  group: RuleCollectionGroup | undefined,
  nodeSubnets: readonly string[],
): string[] {
  if (group === undefined || nodeSubnets.length === 0) return [];
  const wanted = nodeSubnets.map((s) => s.toLowerCase());
  const found = new Set<string>();
  for (const collection of group.ruleCollections)
    for (const rule of collection.rules ?? []) {
      if (rule.ruleType !== "NetworkRule") continue;
      const net = rule as NetworkRuleBody;
      if (!featuresOfDescription(net.description).includes("pod-api-access")) continue;
      if (!(net.ipProtocols ?? []).some((p) => p === "TCP" || p === "Any")) continue;
      if (!(net.destinationPorts ?? []).includes("443")) continue;
      const sources = new Set((net.sourceAddresses ?? []).map((s) => s.toLowerCase()));
      if (!wanted.every((s) => sources.has(s))) continue;
      for (const address of net.destinationAddresses ?? []) if (isIP(address) !== 0) found.add(address);
    }
  return [...found].sort();
}

/**
 * Compares a cluster's resolved API server address with what the group allows. When the lookup
 * failed, the profile keeps the allowed address (returned as `keep`) and the finding says so.
 */
export function apiServerAddressCheck(
  profile: Pick<ClusterProfile, "id" | "name" | "nodeSubnets">,
  fqdn: string,
  resolved: { addresses: readonly string[] } | { error: string },
  group: RuleCollectionGroup | undefined,
): { findings: Finding[]; keep?: string[] } {
  const allowed = allowedApiServerAddresses(group, profile.nodeSubnets);
  const finding = (code: string, message: string): Finding => ({
    code,
    severity: "warning",
    clusterId: profile.id,
    message,
  });
  if ("error" in resolved) {
    if (allowed.length > 0)
      return {
        keep: allowed,
        findings: [
          finding(
            "API_SERVER_NOT_RESOLVED",
            `${profile.name}: its API server ${fqdn} could not be resolved (${resolved.error}); the rule keeps the address the group allows, ${allowed.join(", ")}.`,
          ),
        ],
      };
    return {
      findings: [
        finding(
          "API_SERVER_NOT_RESOLVED",
          `${profile.name}: its API server ${fqdn} could not be resolved (${resolved.error}), so no rule to its address is written; the tag aks-egress-guard/parameters=apiServerIp=<address> names it.`,
        ),
      ],
    };
  }
  const now = [...resolved.addresses].sort();
  if (allowed.length > 0 && allowed.join(",") !== now.join(","))
    return {
      findings: [
        finding(
          "API_SERVER_ADDRESS_CHANGED",
          `${profile.name}: its API server ${fqdn} now resolves to ${now.join(", ")}; the group allows ${allowed.join(", ")}. Microsoft's page warns the address can change in maintenance; this plan moves the rule to the new address.`,
        ),
      ],
    };
  return { findings: [] };
}

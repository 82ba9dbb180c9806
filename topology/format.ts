// The egress path as people read it, one line per pool, for `aks-egress check --cluster` and for the
// route evidence beside OUTBOUND_NOT_UDR:
//   subnet snet-aks (10.0.0.0/22) → route table rt-egress → 0.0.0.0/0 via VirtualAppliance 10.0.1.4
//     → Azure Firewall fw-hub → policy fw-policy
import { DEFAULT_ROUTE_PREFIX, nameOf } from "./egress";
import type { ClusterEgress, PoolEgress } from "./types";

const ARROW = " → ";

/** Where the path stops when it does not reach a firewall policy. */
function stop(pool: PoolEgress): string | undefined {
  switch (pool.outcome) {
    case "firewall":
      return undefined;
    case "firewallWithoutPolicy":
      return "no firewall policy";
    case "bypass":
      return "Internet, around the firewall";
    case "notAFirewall":
      return pool.defaultRoute?.nextHopType.toLowerCase() === "virtualappliance"
        ? `no known Azure Firewall at ${pool.defaultRoute.nextHopIpAddress ?? "?"}`
        : "not a known Azure Firewall";
    case "ambiguous":
      return "more than one Azure Firewall";
    case "unknown":
      return `not known (${pool.reason ?? "not read"})`;
  }
}

/** The subnet's route table and its default route, as far as they are known. */
function routeSteps(pool: PoolEgress): string[] {
  if (pool.routeTableId === undefined) return ["no route table"];
  const table = `route table ${nameOf(pool.routeTableId)}`;
  const route = pool.defaultRoute;
  if (route !== undefined) {
    const ip = route.nextHopIpAddress ? ` ${route.nextHopIpAddress}` : "";
    return [table, `${DEFAULT_ROUTE_PREFIX} via ${route.nextHopType}${ip}`];
  }
  return pool.notRead === "routeTable" ? [table] : [table, `no ${DEFAULT_ROUTE_PREFIX} route`];
}

/** One pool's path, from its subnet to the policy (or to where it stops). */
export function formatEgressPath(pool: PoolEgress): string {
  if (pool.subnetId === undefined) return pool.reason ?? "no subnet";
  const prefixes = pool.subnetPrefixes.length > 0 ? ` (${pool.subnetPrefixes.join(", ")})` : "";
  const steps = [`subnet ${nameOf(pool.subnetId)}${prefixes}`];
  // Past a subnet that was not read, nothing is known.
  if (pool.notRead !== "subnet") steps.push(...routeSteps(pool));
  if (pool.securedHub !== undefined) {
    const intent = pool.securedHub.routingPolicy ? ` (routing intent ${pool.securedHub.routingPolicy})` : "";
    steps.push(`virtual hub ${nameOf(pool.securedHub.hubId)}${intent}`);
  }
  if (pool.firewallId !== undefined) steps.push(`Azure Firewall ${nameOf(pool.firewallId)}`);
  if (pool.firewallPolicyId !== undefined) steps.push(`policy ${nameOf(pool.firewallPolicyId)}`);
  const end = stop(pool);
  if (end !== undefined) steps.push(end);
  return steps.join(ARROW);
}

/** A header line (the policy the routes lead to), then one indented line per pool. */
export function formatClusterEgress(egress: ClusterEgress): string[] {
  const policy =
    egress.routedPolicyId === undefined
      ? "no single firewall policy"
      : `policy ${nameOf(egress.routedPolicyId)}${egress.routedPolicyInScope ? "" : " (not in scope)"}`;
  return [
    `${egress.clusterName}: its routes lead to ${policy}`,
    ...egress.pools.map((pool) => `  pool ${pool.pool}: ${formatEgressPath(pool)}`),
  ];
}

/** Every pool's path on one line, to put beside a finding such as OUTBOUND_NOT_UDR. */
export function routeEvidence(egress: ClusterEgress): string {
  return `routes: ${egress.pools.map((pool) => `pool ${pool.pool}: ${formatEgressPath(pool)}`).join("; ")}`;
}

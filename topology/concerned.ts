// Which firewall policies a change to the network concerns. Pure.
//
// Each pass records an egress index for its policy: what its clusters' egress passes through
// (`touched`: a change there may take a cluster away or change its rules) and what can make an
// untagged cluster newly reach it (`own`: its Azure Firewalls, their private IPs and hubs). A network
// event is then narrowed to the policies whose index it touches, plus those the changed resource now
// leads to. A missed wake leaves drift until the sweep, so whatever is not known concerns the policy:
// no index, an index that overflowed, firewalls the pass did not list.
import { createHash } from "node:crypto";
import { virtualNetworkIdOf } from "../drift/cluster-profile";
import { DEFAULT_ROUTE_PREFIX, nameOf } from "./egress";
import type { AzureFirewallFacts, ClusterEgress, NetworkTopology, RouteTableFacts } from "./types";

/** Beyond this many resources on its clusters' paths, an index is incomplete: every event concerns it. */
export const INDEX_TOUCHED_MAX = 400;
/** Beyond this many firewalls, IPs and hubs of its own, a policy is reached by every network change. */
export const INDEX_OWN_MAX = 200;
export const INDEX_VERSION = 1;

/**
 * What one pass saw of one policy's egress, small enough for the reconciler's input (never its
 * custom status): resource IDs as short hashes of their lower-cased form, IPs as they are.
 */
export interface EgressIndex {
  v: typeof INDEX_VERSION;
  /** Hashes of the subnets, networks, route tables, firewalls and hubs its clusters' egress passes. */
  touched: string[];
  /** False when `touched` was cut at INDEX_TOUCHED_MAX: every network event concerns the policy. */
  complete: boolean;
  /** Hashes of the Azure Firewalls whose firewallPolicy is this policy. */
  ownFirewalls: string[];
  /** Their private IPs (ipConfigurations and hubIPAddresses), lower-cased. */
  ownIps: string[];
  /** Hashes of the virtual hubs those firewalls are in. */
  ownHubs: string[];
  /** False when the pass did not list firewalls everywhere it read: then anything may reach it. */
  ownKnown: boolean;
  /** One of its firewalls shares a private IP with another firewall (a route to it is ambiguous). */
  ownIpShared: boolean;
}

export const resourceKey = (id: string) => id.trim().replace(/\/$/, "").toLowerCase();
/** 72 bits of SHA-256: a collision only wakes a policy for nothing. */
export const idHash = (id: string) =>
  createHash("sha256").update(resourceKey(id)).digest("base64url").slice(0, 12);
const ipKey = (ip: string) => ip.trim().toLowerCase();

export interface IndexInput {
  policyId: string;
  /** The egress of the clusters the policy serves, or whose rules its managed group holds. */
  egress: readonly ClusterEgress[];
  /** Other resources those clusters' rules come from (an API server subnet's prefixes). */
  otherIds?: readonly string[];
  topology: NetworkTopology;
  /** Whether the pass listed Azure Firewalls (it does only when some route can lead to one). */
  firewallsListed: boolean;
}

/** The resources on one cluster's egress paths: each pool's subnet and network, route table, firewall, hub. */
export function pathIds(egress: ClusterEgress): string[] {
  return egress.pools.flatMap((pool) => [
    ...(pool.subnetId ? [pool.subnetId, virtualNetworkIdOf(pool.subnetId)] : []),
    ...(pool.routeTableId ? [pool.routeTableId] : []),
    ...(pool.firewallId ? [pool.firewallId] : []),
    ...(pool.securedHub ? [pool.securedHub.hubId] : []),
  ]);
}

const ipsOf = (firewall: AzureFirewallFacts) =>
  [
    ...firewall.privateIpAddresses,
    ...(firewall.hubPrivateIpAddress ? [firewall.hubPrivateIpAddress] : []),
  ].map(ipKey);

export function egressIndexOf(input: IndexInput): EgressIndex {
  const touched = [
    ...new Set([...input.egress.flatMap(pathIds), ...(input.otherIds ?? [])].map(idHash)),
  ].sort();
  const policy = resourceKey(input.policyId);
  const firewalls = Object.values(input.topology.firewalls);
  const own = firewalls.filter((f) => f.firewallPolicyId && resourceKey(f.firewallPolicyId) === policy);
  const ownIps = [...new Set(own.flatMap(ipsOf))].sort();
  const ownHubs = [...new Set(own.flatMap((f) => (f.virtualHubId ? [idHash(f.virtualHubId)] : [])))].sort();
  const ownFirewalls = [...new Set(own.map((f) => idHash(f.id)))].sort();
  const ownIds = new Set(own.map((f) => resourceKey(f.id)));
  const ownIpSet = new Set(ownIps);
  const ownIpShared = firewalls.some(
    (f) => !ownIds.has(resourceKey(f.id)) && ipsOf(f).some((ip) => ownIpSet.has(ip)),
  );
  const firewallsRefused = input.topology.unread.some((gap) => gap.what === "azureFirewalls");
  const ownCount = ownIps.length + ownHubs.length + ownFirewalls.length;
  const ownKnown = input.firewallsListed && !firewallsRefused && ownCount <= INDEX_OWN_MAX;
  return {
    v: INDEX_VERSION,
    touched: touched.slice(0, INDEX_TOUCHED_MAX),
    complete: touched.length <= INDEX_TOUCHED_MAX,
    ownFirewalls: ownKnown ? ownFirewalls : [],
    ownIps: ownKnown ? ownIps : [],
    ownHubs: ownKnown ? ownHubs : [],
    ownKnown,
    ownIpShared,
  };
}

const strings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === "string");

/** Whether a value read back from a reconciler's input is an index this version can use. */
export function isEgressIndex(value: unknown): value is EgressIndex {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.v === INDEX_VERSION &&
    strings(v.touched) &&
    strings(v.ownFirewalls) &&
    strings(v.ownIps) &&
    strings(v.ownHubs) &&
    typeof v.complete === "boolean" &&
    typeof v.ownKnown === "boolean" &&
    typeof v.ownIpShared === "boolean"
  );
}

/** A policy's index as the event narrowing reads it, or why there is no index it can trust. */
export type IndexView = { index: EgressIndex } | { missing: string };

/** Where the changed resource can send egress now, as read from ARM after the change. */
export interface Reach {
  /** Next hops of default routes to a virtual appliance. */
  ips: string[];
  /** Virtual hubs whose firewall the egress may now pass. */
  hubs: string[];
  /** Egress may now pass whatever secured hub its network is connected to (no default route of its own). */
  anyHub: boolean;
  /** Azure Firewalls it is (an Azure Firewall event). */
  firewalls: string[];
  /** Policies it names itself (an Azure Firewall's firewallPolicy). */
  policies: string[];
}

export const NOWHERE: Reach = { ips: [], hubs: [], anyHub: false, firewalls: [], policies: [] };

export function joinReach(reaches: readonly Reach[]): Reach {
  const all = (k: "ips" | "hubs" | "firewalls" | "policies") => [...new Set(reaches.flatMap((r) => r[k]))];
  return {
    ips: all("ips"),
    hubs: all("hubs"),
    anyHub: reaches.some((r) => r.anyHub),
    firewalls: all("firewalls"),
    policies: all("policies"),
  };
}

const leadsNowhere = (r: Reach) =>
  r.ips.length + r.hubs.length + r.firewalls.length + r.policies.length === 0 && !r.anyHub;

/**
 * Where a subnet using this route table sends internet egress (topology/egress.ts follows the same
 * steps): its 0.0.0.0/0 route's appliance IP; no such route, and gateway routes propagate: a secured
 * hub may decide; Internet, a gateway, VnetLocal or None: no firewall.
 */
export function routeTableReach(table: RouteTableFacts | undefined): Reach {
  if (table === undefined) return { ...NOWHERE, anyHub: true };
  const route = table.routes.find((r) => r.addressPrefix.trim() === DEFAULT_ROUTE_PREFIX);
  if (route === undefined) return table.disableBgpRoutePropagation ? NOWHERE : { ...NOWHERE, anyHub: true };
  if (route.nextHopType.trim().toLowerCase() !== "virtualappliance" || !route.nextHopIpAddress)
    return NOWHERE;
  return { ...NOWHERE, ips: [ipKey(route.nextHopIpAddress)] };
}

export function firewallReach(firewall: AzureFirewallFacts): Reach {
  return {
    ...NOWHERE,
    ips: ipsOf(firewall),
    hubs: firewall.virtualHubId ? [firewall.virtualHubId] : [],
    firewalls: [firewall.id],
    policies: firewall.firewallPolicyId ? [firewall.firewallPolicyId] : [],
  };
}

/** A resource on the clusters' paths that the change may alter, and what people call it. */
export interface OnPath {
  id: string;
  /** "route table", "subnet", … */
  noun: string;
}

export interface NetworkChange {
  /** The changed resource and, where it is a child, its parent (a route's table, a connection's hub). */
  onPath: OnPath[];
  /** What it leads to now; undefined when it was deleted. */
  reach?: Reach;
  /** The Azure Firewall that changed or went, if that is what changed. */
  firewallId?: string;
}

export interface Concern {
  policyId: string;
  why: string;
}

export interface ConcernOptions {
  defaultPolicyId?: string;
  includeUntaggedWhenDefault: boolean;
}

/**
 * The policies (of `policies`, in their order) a change concerns, each with why. `views` holds each
 * policy's index by lower-cased ID; a policy with none is concerned.
 */
export function concernedPolicies(
  change: NetworkChange,
  policies: readonly string[],
  views: ReadonlyMap<string, IndexView>,
  options: ConcernOptions,
): Concern[] {
  const onPath = change.onPath.map((o) => ({ ...o, hash: idHash(o.id) }));
  const reach = change.reach ?? NOWHERE;
  const ips = new Set(reach.ips.map(ipKey));
  const hubs = new Set(reach.hubs.map(idHash));
  const firewall = change.firewallId === undefined ? undefined : idHash(change.firewallId);
  const named = new Set(reach.policies.map(resourceKey));
  const concerns: Concern[] = [];
  // A cluster a policy may lose, untagged, may fall to the default policy (drift/served.ts).
  let mayLose = false;
  for (const policyId of policies) {
    const view = views.get(resourceKey(policyId));
    const why = ((): { why: string; loses?: boolean } | undefined => {
      if (view === undefined) return { why: "no index read", loses: true };
      if ("missing" in view) return { why: view.missing, loses: true };
      const index = view.index;
      if (!index.complete)
        return { why: `its index is incomplete (over ${INDEX_TOUCHED_MAX} resources)`, loses: true };
      const touched = new Set(index.touched);
      const hit = onPath.find((o) => touched.has(o.hash));
      if (hit) return { why: `by its clusters' ${hit.noun}`, loses: true };
      if (named.has(resourceKey(policyId))) return { why: "the firewall's policy" };
      if (firewall !== undefined) {
        if (index.ownFirewalls.includes(firewall)) return { why: "its own firewall" };
        // Routes to an IP two firewalls share resolve anew when one of them changes or goes.
        if (index.ownIpShared) return { why: "its firewall shares a private IP with another firewall" };
        if (!index.ownKnown) return { why: "its last pass did not list every firewall" };
      }
      if (leadsNowhere(reach)) return undefined;
      if (!index.ownKnown) return { why: "its last pass did not list every firewall, so it may be reached" };
      const ip = index.ownIps.find((i) => ips.has(i));
      if (ip !== undefined) return { why: `now reached through its firewall's IP ${ip}` };
      if (index.ownHubs.some((h) => hubs.has(h))) return { why: "now reached through its secured hub" };
      if (reach.anyHub && index.ownHubs.length > 0)
        return { why: "may now be reached through its secured hub (no default route of its own)" };
      return undefined;
    })();
    if (why === undefined) continue;
    if (why.loses) mayLose = true;
    concerns.push({ policyId, why: why.why });
  }
  const fallback = options.includeUntaggedWhenDefault ? options.defaultPolicyId : undefined;
  if (mayLose && fallback !== undefined) {
    const policyId = policies.find((p) => resourceKey(p) === resourceKey(fallback));
    if (policyId !== undefined && !concerns.some((c) => c.policyId === policyId)) {
      const at = policies.indexOf(policyId);
      const concern = {
        policyId,
        why: "the default policy: it takes untagged clusters another policy loses",
      };
      // Keep the order of `policies`.
      const before = concerns.findIndex((c) => policies.indexOf(c.policyId) > at);
      concerns.splice(before === -1 ? concerns.length : before, 0, concern);
    }
  }
  return concerns;
}

/** "fw-a by its clusters' route table; fw-b: no index yet", for a reason's detail. */
export function formatConcerns(concerns: readonly Concern[]): string {
  return concerns
    .map((c) =>
      c.why.startsWith("by ") ? `${nameOf(c.policyId)} ${c.why}` : `${nameOf(c.policyId)}: ${c.why}`,
    )
    .join("; ");
}

// Route-derived mapping (issue 13): where each cluster's egress goes, from the network. Pure.
export {
  type Concern,
  concernedPolicies,
  type EgressIndex,
  egressIndexOf,
  firewallReach,
  formatConcerns,
  INDEX_OWN_MAX,
  INDEX_TOUCHED_MAX,
  type IndexView,
  idHash,
  isEgressIndex,
  joinReach,
  type NetworkChange,
  NOWHERE,
  type OnPath,
  type Reach,
  resourceKey,
  routeTableReach,
} from "./concerned";
export { DEFAULT_ROUTE_PREFIX, deriveEgress, EGRESS_FINDINGS, nameOf } from "./egress";
export { formatClusterEgress, formatEgressPath, routeEvidence } from "./format";
export { needsFirewalls, needsVirtualHubs, routeTableSubscriptions } from "./needs";
export type * from "./types";
